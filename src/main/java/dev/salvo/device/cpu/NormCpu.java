package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/norm.kernel} ({@link dev.salvo.device.ops.NormOps}). The reductions
 * split over channels (each channel summed in batch-major order with float64 accumulators), the
 * elementwise ops over the N x C planes: the split depends on the shape only.
 */
final class NormCpu implements CpuOps.Family {

    /** Values per task below which the work stays on one thread. */
    private static final int GRAIN = 1 << 15;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "batchnorm_stats" -> new Stats(pool);
            case "batchnorm_forward" -> new Forward(pool, false);
            case "batchnorm_eval" -> new Forward(pool, true);
            case "batchnorm_backward" -> new Backward(pool);
            default -> null;
        };
    }

    /** Channels per task for {@code m} values a channel. */
    private static int channelGrain(long m) {
        return (int) Math.max(1, GRAIN / Math.max(1, m));
    }

    /** Base of the bodies: keeps the call's arguments while the pool runs it. */
    private abstract static class Split implements CpuOps.Body, CpuPool.RangeBody {
        final CpuPool pool;
        CpuOps.Args a;

        Split(CpuPool pool) {
            this.pool = pool;
        }

        /** Runs {@code this} over {@code [0, n)} in chunks of at least {@code grain}. */
        final void split(CpuOps.Args args, int n, int grain) {
            a = args;
            try {
                pool.forRange(n, grain, this);
            } finally {
                a = null;
            }
        }
    }

    /** mean, invstd and the running estimates, one channel at a time (two passes). */
    private static final class Stats extends Split {
        Stats(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(CpuOps.Args args) {
            split(args, args.n[1], channelGrain((long) args.n[0] * args.n[2]));
        }

        @Override
        public void run(int from, int to) {
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
                    int o = a.off[0] + (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        sum += x[o + k];
                    }
                }
                double mean = sum / m;
                double sq = 0;
                for (int i = 0; i < batch; i++) {
                    int o = a.off[0] + (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        double d = x[o + k] - mean;
                        sq += d * d;
                    }
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

    /**
     * Training: {@code y = (x - mean) invstd gamma + beta}; evaluation ({@code eval}):
     * {@code y = (x - runMean) / sqrt(runVar + eps) gamma + beta}. Split over the N x C planes.
     */
    private static final class Forward extends Split {
        private final boolean eval;

        Forward(CpuPool pool, boolean eval) {
            super(pool);
            this.eval = eval;
        }

        @Override
        public void run(CpuOps.Args args) {
            split(args, args.n[0] * args.n[1], channelGrain(args.n[2]));
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
                } else {
                    for (int k = 0; k < s; k++) {
                        y[yo + k] = (x[xo + k] - mean) * stat * gamma + beta;
                    }
                }
            }
        }
    }

    /** dbeta, dgamma (float64 sums in batch-major order), then dx, one channel at a time. */
    private static final class Backward extends Split {
        Backward(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(CpuOps.Args args) {
            split(args, args.n[1], channelGrain(2L * args.n[0] * args.n[2]));
        }

        @Override
        public void run(int from, int to) {
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
                    for (int k = 0; k < s; k++) {
                        double g = dy[a.off[1] + plane + k];
                        db += g;
                        dg += g * ((x[a.off[0] + plane + k] - mean) * invstd);
                    }
                }
                double scale = gamma * invstd / m;
                for (int i = 0; i < batch; i++) {
                    int plane = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        double xhat = (x[a.off[0] + plane + k] - mean) * invstd;
                        dx[a.off[5] + plane + k] = (float) (scale * (m * dy[a.off[1] + plane + k] - db - xhat * dg));
                    }
                }
                a.f[6][a.off[6] + ch] = (float) dg;
                a.f[7][a.off[7] + ch] = (float) db;
            }
        }
    }
}
