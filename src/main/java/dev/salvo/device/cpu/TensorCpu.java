package dev.salvo.device.cpu;

/** CPU bodies of {@code kernels/tensor.kernel} ({@link dev.salvo.device.ops.TensorOps}). */
final class TensorCpu implements CpuOps.Family {

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "add" -> new Add(pool);
            case "channel_bias" -> new ChannelBias(pool);
            case "channel_bias_grad" -> new ChannelBiasGrad(pool);
            case "swap01" -> new Swap01(pool);
            default -> null;
        };
    }

    /** y = a + b over n elements, split in ranges. */
    private static final class Add implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private CpuOps.Args a;

        Add(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                pool.forRange(args.n[0], 1 << 15, this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int from, int to) {
            float[] x = a.f[0];
            float[] y = a.f[1];
            float[] out = a.f[2];
            int xo = a.off[0];
            int yo = a.off[1];
            int oo = a.off[2];
            for (int k = from; k < to; k++) {
                out[oo + k] = x[xo + k] + y[yo + k];
            }
        }
    }

    /** y (N,C,S) = x + bias (C), split over the N x C planes. */
    private static final class ChannelBias implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private CpuOps.Args a;

        ChannelBias(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                int s = Math.max(1, args.n[2]);
                pool.forRange(args.n[0] * args.n[1], Math.max(1, (1 << 15) / s), this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int from, int to) {
            int c = a.n[1];
            int s = a.n[2];
            float[] x = a.f[0];
            float[] bias = a.f[1];
            float[] y = a.f[2];
            for (int plane = from; plane < to; plane++) {
                float b = bias[a.off[1] + plane % c];
                int xo = a.off[0] + plane * s;
                int yo = a.off[2] + plane * s;
                for (int k = 0; k < s; k++) {
                    y[yo + k] = x[xo + k] + b;
                }
            }
        }
    }

    /** db (C) = sum over N and S of dy, per channel in batch-major order (as the kernel sums). */
    private static final class ChannelBiasGrad implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private CpuOps.Args a;

        ChannelBiasGrad(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                pool.forRange(args.n[1], 1, this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int from, int to) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            float[] dy = a.f[0];
            for (int ch = from; ch < to; ch++) {
                float sum = 0;
                for (int i = 0; i < batch; i++) {
                    int o = a.off[0] + (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        sum += dy[o + k];
                    }
                }
                a.f[1][a.off[1] + ch] = sum;
            }
        }
    }

    /** y (B,A,S) = x (A,B,S), split over the A x B planes of S contiguous values. */
    private static final class Swap01 implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private CpuOps.Args a;

        Swap01(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                pool.forRange(args.n[0] * args.n[1], Math.max(1, (1 << 14) / Math.max(1, args.n[2])), this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int from, int to) {
            int da = a.n[0];
            int db = a.n[1];
            int s = a.n[2];
            for (int plane = from; plane < to; plane++) {
                int i = plane / db;
                int j = plane % db;
                System.arraycopy(a.f[0], a.off[0] + plane * s, a.f[1], a.off[1] + (j * da + i) * s, s);
            }
        }
    }
}
