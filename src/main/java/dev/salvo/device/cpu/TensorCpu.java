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
    private static final class Add extends CpuOps.Ranged {
        Add(CpuPool pool) {
            super(pool, 1 << 15);
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
    private static final class ChannelBias extends CpuOps.Ranged {
        ChannelBias(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return (1 << 15) / Math.max(1, a.n[2]);
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
    private static final class ChannelBiasGrad extends CpuOps.Ranged {
        ChannelBiasGrad(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[1];
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
    private static final class Swap01 extends CpuOps.Ranged {
        Swap01(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return (1 << 14) / Math.max(1, a.n[2]);
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
