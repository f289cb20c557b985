package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.Tolerance;
import java.util.List;
import java.util.Random;

/**
 * Layer normalization over the last axis ({@code kernels/layernorm.kernel}) with the semantics of
 * PyTorch's {@code nn.LayerNorm(dim)}: x is {@code (rows, dim)}, each row normalized by its own mean
 * and biased variance, {@code y = (x - mean) rstd gamma + beta} with {@code rstd = 1 / sqrt(var + eps)};
 * the forward saves {@code mean (rows)} and {@code rstd (rows)} for the backward.
 *
 * <p>The variance is computed in two passes over the row: the mean, then the sum of squared
 * deviations from it (never {@code E[x^2] - E[x]^2}, which loses every digit when the row sits far
 * from 0: a sample with an offset of 64 checks that). The kernel also takes the sum of the
 * deviations in the second pass and corrects the mean by it (the corrected two-pass algorithm of
 * Chan, Golub and LeVeque), so the mean is as accurate as float32 can store it.
 *
 * <p>Kernels: {@code layernorm_forward} and {@code layernorm_backward} run one work-group of
 * {@link #WG} items per row (item l takes the elements l, l + WG, ... of its row, then a fixed tree
 * in local memory); {@code layernorm_param_grads} one work-item per column, walking the rows in
 * order. No atomics: every result is bitwise reproducible.
 */
public final class LayerNormOps {

    private LayerNormOps() {
    }

    /** Work-items per row of the forward and backward: {@code LN_WG} of {@code kernels/layernorm.kernel}. */
    public static final int WG = 128;

    /** Offset of the samples that catch a one-pass variance. */
    static final double OFFSET = 64;

    /** Base of the ops over x (rows, dim) with ints {@code rows, dim}. */
    private abstract static class LayerNorm extends Op {
        LayerNorm(String name, String signature) {
            super("layernorm", name, signature);
        }

        static long elements(int[] n) {
            return (long) n[0] * n[1];
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[1] < 1) {
                throw new IllegalArgumentException(name() + ": dim must be at least 1, got " + n[1]);
            }
        }

        static double[] uniform(int length, Random r, double lo, double hi) {
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = lo + (hi - lo) * r.nextDouble();
            }
            return x;
        }

        /** Adds {@code offset} to every element of buffer 0 (x) of {@code s}. */
        static Sample offset(Sample s, double offset) {
            double[] x = (double[]) s.data()[0];
            for (int i = 0; i < x.length; i++) {
                x[i] += offset;
            }
            return new Sample(s.label() + ", x offset by " + offset, s.n(), s.r(), s.data());
        }

        /**
         * Writes into buffers {@code meanSlot}, {@code rstdSlot} of {@code s} the float64 statistics
         * of its x (buffer 0, rounded to float32 as a device sees it), as a forward pass leaves them.
         */
        static Sample consistent(Sample s, int meanSlot, int rstdSlot, double eps) {
            int rows = s.n()[0];
            int dim = s.n()[1];
            double[] x = (double[]) s.data()[0];
            double[] mean = (double[]) s.data()[meanSlot];
            double[] rstd = (double[]) s.data()[rstdSlot];
            for (int r = 0; r < rows; r++) {
                double[] st = stats(x, r * dim, dim, eps, true);
                mean[r] = st[0];
                rstd[r] = st[1];
            }
            return s;
        }
    }

    /**
     * {@code {mean, 1 / sqrt(var + eps)}} of {@code x[o, o + dim)} in float64, two passes; with
     * {@code asFloat} each x is rounded to float32 first.
     */
    static double[] stats(double[] x, int o, int dim, double eps, boolean asFloat) {
        double s = 0;
        for (int j = 0; j < dim; j++) {
            s += asFloat ? (float) x[o + j] : x[o + j];
        }
        double mean = s / dim;
        double sq = 0;
        for (int j = 0; j < dim; j++) {
            double d = (asFloat ? (float) x[o + j] : x[o + j]) - mean;
            sq += d * d;
        }
        return new double[] {mean, 1 / Math.sqrt(sq / dim + eps)};
    }

    /** One work-group of {@link #WG} items per row. */
    private abstract static class PerRow extends LayerNorm {
        PerRow(String name, String signature) {
            super(name, signature);
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * WG;
        }

        @Override
        public long[] local(int[] n, int wg) {
            return new long[] {WG};
        }
    }

    /**
     * {@code y (rows, dim) = (x - mean) rstd gamma + beta} per row, {@code mean (rows)},
     * {@code rstd (rows) = 1 / sqrt(var + eps)} with the biased variance; y may be x.
     */
    public static final Op LAYERNORM_FORWARD = new PerRow("layernorm_forward",
            "int rows, int dim, real eps, in x, in gamma, in beta, out y, out mean, out rstd") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, n[1], n[1], len, n[0], n[0]};
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
            int rows = a.n[0];
            int dim = a.n[1];
            double[] x = a.f[0];
            for (int r = 0; r < rows; r++) {
                int xo = a.off[0] + r * dim;
                double[] st = stats(x, xo, dim, a.r[0], false);
                a.f[4][a.off[4] + r] = st[0];
                a.f[5][a.off[5] + r] = st[1];
                for (int j = 0; j < dim; j++) {
                    a.f[3][a.off[3] + r * dim + j] = (x[xo + j] - st[0]) * st[1] * a.f[1][a.off[1] + j] + a.f[2][a.off[2] + j];
                }
            }
        }

        /** gamma in [0.5, 1.5), beta in [-0.5, 0.5): x in [-1, 1). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return switch (b) {
                case 1 -> uniform(length, r, 0.5, 1.5);
                case 2 -> uniform(length, r, -0.5, 0.5);
                default -> super.input(b, length, n, r);
            };
        }

        /**
         * Derived for the samples (x within 1 of an offset of at most 64, so rstd <= 1/sqrt(var)
         * stays near sqrt 3; |gamma| < 1.5): the mean is stored in float32, so y carries its
         * rounding, u 64 rstd |gamma| ~ 1e-5, whatever the sums; the sums themselves (a chain of
         * dim / WG terms and a tree of log2 WG levels, about 13 roundings of values below 1 after
         * the mean's correction) add ~1e-6; rstd and the mean are within the default relative bound.
         */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Elementwise(3e-5, Tolerance.RTOL, "y carries the float32 rounding of a mean of up to "
                    + OFFSET + ": u 64 rstd |gamma| ~ 1e-5, plus ~13 roundings in the sums");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("1x1", r, new int[] {1, 1}, 1e-5), sample("5x1", r, new int[] {5, 1}, 1e-5),
                    sample("7x200", r, new int[] {7, 200}, 1e-5), sample("3x129", r, new int[] {3, 129}, 1e-3),
                    sample("4x768", r, new int[] {4, 768}, 1e-5), sample("2x1000", r, new int[] {2, 1000}, 0.0),
                    sample("no rows 0x16", r, new int[] {0, 16}, 1e-5),
                    offset(sample("6x768", r, new int[] {6, 768}, 1e-5), OFFSET),
                    offset(sample("9x100", r, new int[] {9, 100}, 1e-5), -OFFSET));
        }
    };

    /**
     * With {@code xhat = (x - mean) rstd} and {@code g = dy gamma}, per row:
     * {@code dx = rstd (g - mean_j g - xhat mean_j (g xhat))}; dx may be dy.
     */
    public static final Op LAYERNORM_BACKWARD = new PerRow("layernorm_backward",
            "int rows, int dim, in x, in dy, in mean, in rstd, in gamma, out dx") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, len, n[0], n[0], n[1], len};
        }

        @Override
        public void reference(RefArgs a) {
            int rows = a.n[0];
            int dim = a.n[1];
            double[] x = a.f[0];
            double[] dy = a.f[1];
            double[] gamma = a.f[4];
            for (int r = 0; r < rows; r++) {
                double mean = a.f[2][a.off[2] + r];
                double rstd = a.f[3][a.off[3] + r];
                int xo = a.off[0] + r * dim;
                int yo = a.off[1] + r * dim;
                double sg = 0;
                double sgx = 0;
                for (int j = 0; j < dim; j++) {
                    double g = dy[yo + j] * gamma[a.off[4] + j];
                    sg += g;
                    sgx += g * (x[xo + j] - mean) * rstd;
                }
                double mg = sg / dim;
                double mgx = sgx / dim;
                for (int j = 0; j < dim; j++) {
                    double xhat = (x[xo + j] - mean) * rstd;
                    double g = dy[yo + j] * gamma[a.off[4] + j];
                    a.f[5][a.off[5] + r * dim + j] = rstd * (g - mg - xhat * mgx);
                }
            }
        }

        /** gamma in [0.5, 1.5); x, dy in [-1, 1); mean and rstd are set from x by the samples. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return b == 4 ? uniform(length, r, 0.5, 1.5) : super.input(b, length, n, r);
        }

        /**
         * Derived for the samples (|g| < 1.5, |xhat| <= sqrt 3, rstd near sqrt 3, or 1/sqrt eps = 316
         * for dim 1, where xhat = 0 and dx = rstd (g - g) = 0 exactly): the two row means carry ~13
         * roundings of terms below 2.6, ~2e-6, times rstd; the rest is a few roundings of |dx| < 10.
         */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Elementwise(2e-5, Tolerance.RTOL, "row means of g and g xhat: ~13 roundings of terms"
                    + " below 2.6, times rstd ~ 1.7");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample(r, 1, 1), sample(r, 5, 1), sample(r, 7, 200), sample(r, 3, 129), sample(r, 4, 768),
                    sample(r, 0, 16), consistent(offset(sample("6x768", r, new int[] {6, 768}), OFFSET), 2, 3, 1e-5));
        }

        private Sample sample(Random r, int rows, int dim) {
            return consistent(sample(rows + "x" + dim, r, new int[] {rows, dim}), 2, 3, 1e-5);
        }
    };

    /** The most rows of the parameter-gradient samples: its tolerance is derived for it. */
    static final int PARAM_GRADS_MAX_ROWS = 64;

    /**
     * {@code dgamma (dim) = sum over rows of dy xhat}, {@code dbeta (dim) = sum over rows of dy}, with
     * {@code xhat = (x - mean) rstd}; overwritten (not accumulated). One work-item per column, the
     * rows in order.
     */
    public static final Op LAYERNORM_PARAM_GRADS = new LayerNorm("layernorm_param_grads",
            "int rows, int dim, in x, in dy, in mean, in rstd, out dgamma, out dbeta") {
        @Override
        public long[] lengths(int[] n) {
            long len = elements(n);
            return new long[] {len, len, n[0], n[0], n[1], n[1]};
        }

        @Override
        public long work(int[] n) {
            return n[1];
        }

        @Override
        public long[] local(int[] n, Launch t) {
            return new long[] {t.wgRows()};
        }

        @Override
        public void reference(RefArgs a) {
            int rows = a.n[0];
            int dim = a.n[1];
            for (int j = 0; j < dim; j++) {
                double dg = 0;
                double db = 0;
                for (int r = 0; r < rows; r++) {
                    double g = a.f[1][a.off[1] + r * dim + j];
                    db += g;
                    dg += g * (a.f[0][a.off[0] + r * dim + j] - a.f[2][a.off[2] + r]) * a.f[3][a.off[3] + r];
                }
                a.f[4][a.off[4] + j] = dg;
                a.f[5][a.off[5] + j] = db;
            }
        }

        /**
         * Derived for the samples (rows <= {@link #PARAM_GRADS_MAX_ROWS}, |dy| < 1, |xhat| <= 1.8):
         * a float32 sum of R terms is within gamma(R) sum |terms| <= gamma(64) 64 1.8 = 4.4e-4.
         */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Elementwise(5e-4, Tolerance.RTOL, "float32 sums over rows <= " + PARAM_GRADS_MAX_ROWS
                    + " of |dy xhat| <= 1.8: gamma(64) 64 1.8 = 4.4e-4");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample(r, 1, 1), sample(r, 7, 1), sample(r, 5, 200), sample(r, 64, 129), sample(r, 3, 768),
                    sample(r, 0, 16), consistent(offset(sample("16x768", r, new int[] {16, 768}), OFFSET), 2, 3, 1e-5));
        }

        private Sample sample(Random r, int rows, int dim) {
            return consistent(sample(rows + "x" + dim, r, new int[] {rows, dim}), 2, 3, 1e-5);
        }
    };

    public static final List<Op> ALL = List.of(LAYERNORM_FORWARD, LAYERNORM_BACKWARD, LAYERNORM_PARAM_GRADS);
}
