package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/norm.kernel} ({@link dev.salvo.device.ops.NormOps}). The reductions
 * split over channels, each channel summed in batch-major order with float64 accumulators (per
 * plane interleaved partial sums in a fixed order: {@link VectorNorm}'s lanes when the device uses
 * the Vector API, else four scalar sums; then the planes in order), the elementwise ops over the
 * N x C planes: the results depend on the shape only, never on the split.
 */
final class NormCpu implements CpuOps.Family {

    /** Values per task below which the work stays on one thread. */
    private static final int GRAIN = 1 << 15;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return body(name, pool, false);
    }

    /** {@code simd}: the reductions' plane sums run on {@link VectorNorm}. */
    @Override
    public CpuOps.Body body(String name, CpuPool pool, boolean simd) {
        return switch (name) {
            case "batchnorm_stats" -> new Stats(pool, simd);
            case "batchnorm_forward" -> new Forward(pool, false, simd);
            case "batchnorm_eval" -> new Forward(pool, true, false);
            case "batchnorm_backward" -> new Backward(pool, simd);
            default -> null;
        };
    }

    /** Channels per task for {@code m} values a channel. */
    private static int channelGrain(long m) {
        return (int) Math.max(1, GRAIN / Math.max(1, m));
    }

    /**
     * Base of the per-channel reductions: the channels in chunks over the pool (the chunks depend
     * on the thread count, a channel's sums do not), each worker with its own scratch.
     */
    private abstract static class PerChannel implements CpuOps.Body, CpuPool.Task {
        final CpuPool pool;
        final boolean simd;
        private final double[][] scratch;
        CpuOps.Args a;
        private int n;
        private int chunks;

        PerChannel(CpuPool pool, boolean simd) {
            this.pool = pool;
            this.simd = simd;
            this.scratch = new double[pool.threads()][simd ? VectorNorm.SCRATCH : 2];
        }

        /** Runs channels {@code [0, n)} in chunks of at least {@code grain}. */
        final void split(CpuOps.Args args, int n, int grain) {
            a = args;
            this.n = n;
            chunks = Math.max(1, Math.min(pool.threads() * 4, n / Math.max(1, grain)));
            try {
                pool.run(chunks, this);
            } finally {
                a = null;
            }
        }

        @Override
        public final void run(int task, int worker) {
            channels(CpuPool.bound(n, chunks, task), CpuPool.bound(n, chunks, task + 1), scratch[worker]);
        }

        /** Channels {@code [from, to)}; {@code t} is this worker's scratch. */
        abstract void channels(int from, int to, double[] t);

        /** True when planes of {@code len} values are summed with the Vector API (not when shorter than two vectors). */
        final boolean vector(int len) {
            return simd && len >= VectorNorm.SCRATCH;
        }

        /** The float64 sum of one plane. */
        final double sum(float[] x, int o, int len, double[] t) {
            return vector(len) ? VectorNorm.sum(x, o, len, t) : planeSum(x, o, len);
        }

        /** The float64 sum of one plane's squared deviations from {@code mean}. */
        final double squares(float[] x, int o, int len, double mean, double[] t) {
            return vector(len) ? VectorNorm.squares(x, o, len, mean, t) : planeSquares(x, o, len, mean);
        }
    }

    /** mean, invstd and the running estimates, one channel at a time (two passes). */
    private static final class Stats extends PerChannel {
        Stats(CpuPool pool, boolean simd) {
            super(pool, simd);
        }

        @Override
        public void run(CpuOps.Args args) {
            split(args, args.n[1], channelGrain((long) args.n[0] * args.n[2]));
        }

        @Override
        void channels(int from, int to, double[] t) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            double eps = (float) a.r[0];
            double mom = (float) a.r[1];
            double m = (double) batch * s;
            float[] x = a.f[0];
            for (int ch = from; ch < to; ch++) {
                double sum = 0;
                for (int i = 0; i < batch; i++) {
                    sum += sum(x, a.off[0] + (i * c + ch) * s, s, t);
                }
                double mean = sum / m;
                double sq = 0;
                for (int i = 0; i < batch; i++) {
                    sq += squares(x, a.off[0] + (i * c + ch) * s, s, mean, t);
                }
                a.f[1][a.off[1] + ch] = (float) mean;
                a.f[2][a.off[2] + ch] = (float) (1 / Math.sqrt(sq / m + eps));
                int rm = a.off[3] + ch;
                int rv = a.off[4] + ch;
                a.f[3][rm] = (float) (mom * mean + (1 - mom) * a.f[3][rm]);
                a.f[4][rv] = (float) (mom * (sq / (m - 1)) + (1 - mom) * a.f[4][rv]);
            }
        }
    }

    /** The float64 sum of {@code x[o..o+len)} in four interleaved partial sums, added pairwise (a fixed order). */
    static double planeSum(float[] x, int o, int len) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            s0 += x[o + k];
            s1 += x[o + k + 1];
            s2 += x[o + k + 2];
            s3 += x[o + k + 3];
        }
        for (; k < len; k++) {
            s0 += x[o + k];
        }
        return (s0 + s1) + (s2 + s3);
    }

    /** The float64 sum of {@code (x - mean)^2} over {@code x[o..o+len)}, in the order of {@link #planeSum}. */
    static double planeSquares(float[] x, int o, int len, double mean) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            double d0 = x[o + k] - mean;
            double d1 = x[o + k + 1] - mean;
            double d2 = x[o + k + 2] - mean;
            double d3 = x[o + k + 3] - mean;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
        }
        for (; k < len; k++) {
            double d = x[o + k] - mean;
            s0 += d * d;
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * {@code t[0] = sum dy}, {@code t[1] = sum dy ((x - mean) invstd)} over one plane, each in four
     * interleaved partial sums added pairwise (a single chain would wait on every add).
     */
    static void planeDbDg(float[] x, int xo, float[] dy, int yo, int len, double mean, double invstd, double[] t) {
        double b0 = 0;
        double b1 = 0;
        double b2 = 0;
        double b3 = 0;
        double g0 = 0;
        double g1 = 0;
        double g2 = 0;
        double g3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            double y0 = dy[yo + k];
            double y1 = dy[yo + k + 1];
            double y2 = dy[yo + k + 2];
            double y3 = dy[yo + k + 3];
            b0 += y0;
            b1 += y1;
            b2 += y2;
            b3 += y3;
            g0 += y0 * ((x[xo + k] - mean) * invstd);
            g1 += y1 * ((x[xo + k + 1] - mean) * invstd);
            g2 += y2 * ((x[xo + k + 2] - mean) * invstd);
            g3 += y3 * ((x[xo + k + 3] - mean) * invstd);
        }
        for (; k < len; k++) {
            double y0 = dy[yo + k];
            b0 += y0;
            g0 += y0 * ((x[xo + k] - mean) * invstd);
        }
        t[0] = (b0 + b1) + (b2 + b3);
        t[1] = (g0 + g1) + (g2 + g3);
    }

    /**
     * Training: {@code y = (x - mean) invstd gamma + beta}; evaluation ({@code eval}):
     * {@code y = (x - runMean) / sqrt(runVar + eps) gamma + beta}. Split over the N x C planes.
     */
    private static final class Forward extends CpuOps.Ranged {
        private final boolean eval;
        private final boolean simd;

        Forward(CpuPool pool, boolean eval, boolean simd) {
            super(pool, 1);
            this.eval = eval;
            this.simd = simd;
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return channelGrain(a.n[2]);
        }

        @Override
        public void run(int from, int to) {
            int c = a.n[1];
            int s = a.n[2];
            float[] x = a.f[0];
            float[] y = a.f[5];
            float eps = eval ? (float) a.r[0] : 0f;
            for (int plane = from; plane < to; plane++) {
                int ch = plane % c;
                float mean = a.f[1][a.off[1] + ch];
                float stat = a.f[2][a.off[2] + ch];
                float gamma = a.f[3][a.off[3] + ch];
                float beta = a.f[4][a.off[4] + ch];
                int xo = a.off[0] + plane * s;
                int yo = a.off[5] + plane * s;
                if (eval) {
                    float sd = (float) Math.sqrt(stat + eps);
                    for (int k = 0; k < s; k++) {
                        y[yo + k] = (x[xo + k] - mean) / sd * gamma + beta;
                    }
                } else if (simd && s >= VectorNorm.SCRATCH) {
                    VectorNorm.normalize(x, xo, y, yo, s, mean, stat, gamma, beta);
                } else {
                    for (int k = 0; k < s; k++) {
                        y[yo + k] = (x[xo + k] - mean) * stat * gamma + beta;
                    }
                }
            }
        }
    }

    /** dbeta, dgamma (float64 sums in batch-major order), then dx (float32), one channel at a time. */
    private static final class Backward extends PerChannel {
        Backward(CpuPool pool, boolean simd) {
            super(pool, simd);
        }

        @Override
        public void run(CpuOps.Args args) {
            split(args, args.n[1], channelGrain(2L * args.n[0] * args.n[2]));
        }

        @Override
        void channels(int from, int to, double[] t) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            double m = (double) batch * s;
            float[] x = a.f[0];
            float[] dy = a.f[1];
            float[] dx = a.f[5];
            for (int ch = from; ch < to; ch++) {
                double mean = a.f[2][a.off[2] + ch];
                double invstd = a.f[3][a.off[3] + ch];
                double gamma = a.f[4][a.off[4] + ch];
                double db = 0;
                double dg = 0;
                for (int i = 0; i < batch; i++) {
                    int plane = (i * c + ch) * s;
                    if (vector(s)) {
                        VectorNorm.dbdg(x, a.off[0] + plane, dy, a.off[1] + plane, s, mean, invstd, t);
                    } else {
                        planeDbDg(x, a.off[0] + plane, dy, a.off[1] + plane, s, mean, invstd, t);
                    }
                    db += t[0];
                    dg += t[1];
                }
                // dx = gamma invstd / M (M dy - dbeta - xhat dgamma) as PyTorch's CPU kernel computes it,
                // in float32 with per-channel constants: (dy - (x - mean) k - dbeta / M) gamma invstd,
                // k = dgamma invstd / M (vectorized when simd; the float64 form ran 6x slower)
                float mu = (float) mean;
                float kf = (float) (dg * invstd / m);
                float gm = (float) (db / m);
                float w = (float) (gamma * invstd);
                for (int i = 0; i < batch; i++) {
                    int plane = (i * c + ch) * s;
                    int xo = a.off[0] + plane;
                    int go = a.off[1] + plane;
                    int dxo = a.off[5] + plane;
                    if (vector(s)) {
                        VectorNorm.gradient(x, xo, dy, go, dx, dxo, s, mu, kf, gm, w);
                    } else {
                        for (int k = 0; k < s; k++) {
                            dx[dxo + k] = (dy[go + k] - (x[xo + k] - mu) * kf - gm) * w;
                        }
                    }
                }
                a.f[6][a.off[6] + ch] = (float) dg;
                a.f[7][a.off[7] + ch] = (float) db;
            }
        }
    }
}
