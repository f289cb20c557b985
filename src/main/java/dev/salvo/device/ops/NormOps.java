package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.Tolerance;
import java.util.List;
import java.util.Random;

/**
 * Batch normalization ({@code kernels/norm.kernel}) with PyTorch's semantics, over x (N,C,S) per
 * channel c: S = H*W for 2-D input, S = 1 for 1-D input (N,C); M = N*S values per channel. Training
 * normalizes with the biased variance and updates the running estimates with the unbiased one,
 * {@code running = (1 - momentum) running + momentum batch}; evaluation normalizes with the running
 * estimates. Statistics are computed in two passes (the mean, then the sum of squared deviations),
 * each in a fixed order.
 *
 * <p>Kernels: {@code batchnorm_stats} and {@code batchnorm_backward} run one work-group of
 * {@link #WG} work-items per channel (item l takes the values l, l + WG, ... of its channel, then a
 * fixed tree in local memory); the others are elementwise.
 */
public final class NormOps {

    private NormOps() {
    }

    /** Work-items per channel of the reductions: {@code BN_WG} of {@code kernels/norm.kernel}. */
    public static final int WG = 256;

    /** Base of the ops over x (N,C,S) with ints {@code batch, c, s}. */
    private abstract static class Norm extends Op {
        Norm(String name, String signature) {
            super("norm", name, signature);
        }

        static long elements(int[] n) {
            return (long) n[0] * n[1] * n[2];
        }

        static double uniform(Random r, double lo, double hi) {
            return lo + (hi - lo) * r.nextDouble();
        }

        static double[] uniform(int length, Random r, double lo, double hi) {
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = uniform(r, lo, hi);
            }
            return x;
        }
    }

    /** A reduction: one work-group of {@link #WG} items per channel. */
    private abstract static class PerChannel extends Norm {
        PerChannel(String name, String signature) {
            super(name, signature);
        }

        @Override
        public long work(int[] n) {
            return (long) n[1] * WG;
        }

        @Override
        public long[] local(int[] n, int wg) {
            return new long[] {WG};
        }
    }

    /** An elementwise op over the N*C*S values: one work-item per {@link TensorOps#CHUNK} of them. */
    private abstract static class Elementwise extends Norm {
        Elementwise(String name, String signature) {
            super(name, signature);
        }

        @Override
        public long work(int[] n) {
            return TensorOps.chunks(elements(n));
        }
    }

    /**
     * {@code mean (C)}, {@code invstd (C) = 1 / sqrt(var + eps)} with the biased variance of the M
     * values of each channel, and {@code runMean <- (1 - momentum) runMean + momentum mean},
     * {@code runVar <- (1 - momentum) runVar + momentum var M / (M - 1)} in place. M must be at least
     * 2 (PyTorch: "Expected more than 1 value per channel when training").
     */
    public static final Op BATCHNORM_STATS = new PerChannel("batchnorm_stats",
            "int batch, int c, int s, real eps, real momentum, in x, out mean, out invstd, inout runMean, inout runVar") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), n[1], n[1], n[1], n[1]};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if ((long) n[0] * n[2] < 2) {
                throw new IllegalArgumentException(name() + ": expected more than 1 value per channel when training, "
                        + "got batch * s = " + n[0] + " * " + n[2] + " = " + (long) n[0] * n[2]);
            }
            if (!(r[0] >= 0) || Double.isInfinite(r[0])) {
                throw new IllegalArgumentException(name() + ": eps must be finite and >= 0, got " + r[0]);
            }
            if (!Double.isFinite(r[1])) {
                throw new IllegalArgumentException(name() + ": momentum must be finite, got " + r[1]);
            }
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            double eps = a.r[0];
            double mom = a.r[1];
            double m = (double) batch * s;
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < batch; i++) {
                    int base = a.off[0] + (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        sum += a.f[0][base + k];
                    }
                }
                double mean = sum / m;
                double sq = 0;
                for (int i = 0; i < batch; i++) {
                    int base = a.off[0] + (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        double d = a.f[0][base + k] - mean;
                        sq += d * d;
                    }
                }
                double var = sq / m;
                a.f[1][a.off[1] + ch] = mean;
                a.f[2][a.off[2] + ch] = 1 / Math.sqrt(var + eps);
                int rm = a.off[3] + ch;
                int rv = a.off[4] + ch;
                a.f[3][rm] = (1 - mom) * a.f[3][rm] + mom * mean;
                a.f[4][rv] = (1 - mom) * a.f[4][rv] + mom * var * m / (m - 1);
            }
        }

        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return b == 4 ? uniform(length, r, 0.05, 2) : super.input(b, length, n, r);
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}, 1e-5, 0.1),
                    sample("7x16x49", r, new int[] {7, 16, 49}, 1e-5, 0.1),
                    sample("33x8x196", r, new int[] {33, 8, 196}, 1e-3, 0.01),
                    sample("1-D 300x10", r, new int[] {300, 10, 1}, 1e-5, 0.1),
                    sample("two values 2x4x1", r, new int[] {2, 4, 1}, 1e-5, 1.0),
                    sample("one image 1x3x7", r, new int[] {1, 3, 7}, 0.0, 0.5),
                    sample("no channels", r, new int[] {4, 0, 9}, 1e-5, 0.1));
        }
    };

    /** {@code y = (x - mean[c]) invstd[c] gamma[c] + beta[c]} over x (N,C,S); y may be x. */
    public static final Op BATCHNORM_FORWARD = new Elementwise("batchnorm_forward",
            "int batch, int c, int s, in x, in mean, in invstd, in gamma, in beta, out y") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, n[1], n[1], n[1], n[1], len};
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            for (int i = 0; i < batch; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double mean = a.f[1][a.off[1] + ch];
                    double invstd = a.f[2][a.off[2] + ch];
                    double gamma = a.f[3][a.off[3] + ch];
                    double beta = a.f[4][a.off[4] + ch];
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        a.f[5][a.off[5] + base + k] = (a.f[0][a.off[0] + base + k] - mean) * invstd * gamma + beta;
                    }
                }
            }
        }

        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return switch (b) {
                case 1 -> uniform(length, r, -0.1, 0.1);
                case 2 -> uniform(length, r, 0.5, 3);
                default -> super.input(b, length, n, r);
            };
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}), sample("7x16x49", r, new int[] {7, 16, 49}),
                    sample("1-D 37x10", r, new int[] {37, 10, 1}), sample("empty", r, new int[] {0, 4, 9}));
        }
    };

    /** Evaluation: {@code y = (x - runMean[c]) / sqrt(runVar[c] + eps) gamma[c] + beta[c]}; y may be x. */
    public static final Op BATCHNORM_EVAL = new Elementwise("batchnorm_eval",
            "int batch, int c, int s, real eps, in x, in runMean, in runVar, in gamma, in beta, out y") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, n[1], n[1], n[1], n[1], len};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (!(r[0] >= 0) || Double.isInfinite(r[0])) {
                throw new IllegalArgumentException(name() + ": eps must be finite and >= 0, got " + r[0]);
            }
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            double eps = a.r[0];
            for (int i = 0; i < batch; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double mean = a.f[1][a.off[1] + ch];
                    double sd = Math.sqrt(a.f[2][a.off[2] + ch] + eps);
                    double gamma = a.f[3][a.off[3] + ch];
                    double beta = a.f[4][a.off[4] + ch];
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        a.f[5][a.off[5] + base + k] = (a.f[0][a.off[0] + base + k] - mean) / sd * gamma + beta;
                    }
                }
            }
        }

        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return b == 2 ? uniform(length, r, 0.1, 3) : super.input(b, length, n, r);
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}, 1e-5), sample("7x16x49", r, new int[] {7, 16, 49}, 1e-3),
                    sample("1-D 37x10", r, new int[] {37, 10, 1}, 1e-5), sample("empty", r, new int[] {0, 4, 9}, 1e-5));
        }
    };

    /** The largest M = N*S of the backward's samples: its tolerance is derived for it. */
    static final int BACKWARD_MAX_M = 450;

    /**
     * With {@code xhat = (x - mean) invstd}: {@code dbeta (C) = sum dy}, {@code dgamma (C) = sum dy xhat}
     * over N and S, and {@code dx = gamma invstd / M (M dy - dbeta - xhat dgamma)}; dx may be dy.
     */
    public static final Op BATCHNORM_BACKWARD = new PerChannel("batchnorm_backward",
            "int batch, int c, int s, in x, in dy, in mean, in invstd, in gamma, out dx, out dgamma, out dbeta") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, len, n[1], n[1], n[1], len, n[1], n[1]};
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            double m = (double) batch * s;
            double[] x = a.f[0];
            double[] dy = a.f[1];
            for (int ch = 0; ch < c; ch++) {
                double mean = a.f[2][a.off[2] + ch];
                double invstd = a.f[3][a.off[3] + ch];
                double gamma = a.f[4][a.off[4] + ch];
                double db = 0;
                double dg = 0;
                for (int i = 0; i < batch; i++) {
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        double g = dy[a.off[1] + base + k];
                        db += g;
                        dg += g * (x[a.off[0] + base + k] - mean) * invstd;
                    }
                }
                a.f[6][a.off[6] + ch] = dg;
                a.f[7][a.off[7] + ch] = db;
                for (int i = 0; i < batch; i++) {
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        double xhat = (x[a.off[0] + base + k] - mean) * invstd;
                        a.f[5][a.off[5] + base + k] = gamma * invstd / m * (m * dy[a.off[1] + base + k] - db - xhat * dg);
                    }
                }
            }
        }

        /** x and dy uniform in [-1, 1); mean near x's (0) and invstd near x's (sqrt 3), as a forward pass leaves them. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return switch (b) {
                case 2 -> uniform(length, r, -0.05, 0.05);
                case 3 -> uniform(length, r, 1.5, 2.0);
                default -> super.input(b, length, n, r);
            };
        }

        /**
         * Derived for the samples (M <= {@link #BACKWARD_MAX_M}, |dy| < 1, |xhat| <= 2.1, |gamma
         * invstd| <= 2): see design.md, "Tolerances".
         */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Elementwise(7e-4, Tolerance.RTOL, "dgamma and dbeta are float32 sums of M <= "
                    + BACKWARD_MAX_M + " terms: gamma(ceil(M/256) + 10) * 2.1 M <= 6.8e-4");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}), sample("3x4x150", r, new int[] {3, 4, 150}),
                    sample("1-D 100x6", r, new int[] {100, 6, 1}), sample("two values 2x5x1", r, new int[] {2, 5, 1}),
                    sample("empty batch", r, new int[] {0, 3, 4}), sample("no channels", r, new int[] {5, 0, 4}));
        }
    };

    public static final List<Op> ALL = List.of(BATCHNORM_STATS, BATCHNORM_FORWARD, BATCHNORM_EVAL, BATCHNORM_BACKWARD);
}
