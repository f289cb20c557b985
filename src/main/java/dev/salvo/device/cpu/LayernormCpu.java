package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/layernorm.kernel} ({@link dev.salvo.device.ops.LayerNormOps}). The
 * forward and backward split the rows over the pool, each row in float64 (two passes for the
 * variance, four interleaved partial sums added pairwise); the parameter gradients split the
 * columns, each column summed over the rows in order in float64. A result depends on the shape
 * only, never on the split or the thread count. With the Vector API the forward and backward rows
 * run on {@link VectorLayernorm} (float32, shifted sums in a fixed order).
 */
final class LayernormCpu implements CpuOps.Family {

    /** Elements per task below which the work stays on one thread. */
    private static final int GRAIN = 1 << 14;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return body(name, pool, false);
    }

    /** {@code simd}: the forward and backward rows run on {@link VectorLayernorm} (float32 lanes). */
    @Override
    public CpuOps.Body body(String name, CpuPool pool, boolean simd) {
        boolean vector = simd;
        return switch (name) {
            case "layernorm_forward" -> new Forward(pool, vector);
            case "layernorm_backward" -> new Backward(pool, vector);
            case "layernorm_param_grads" -> new ParamGrads(pool);
            default -> null;
        };
    }

    /** Rows per task for rows of {@code dim} values. */
    private static int rowGrain(int dim) {
        return Math.max(1, GRAIN / Math.max(1, dim));
    }

    /** One row at a time: mean, rstd (float64, two passes), then y. */
    private static final class Forward extends CpuOps.Ranged {
        private final boolean vector;

        Forward(CpuPool pool, boolean vector) {
            super(pool, 1);
            this.vector = vector;
        }

        @Override
        int grain(CpuOps.Args a) {
            return rowGrain(a.n[1]);
        }

        @Override
        public void run(int from, int to) {
            int dim = a.n[1];
            double eps = (float) a.r[0];
            float[] x = a.f[0];
            float[] gamma = a.f[1];
            float[] beta = a.f[2];
            float[] y = a.f[3];
            int go = a.off[1];
            int bo = a.off[2];
            if (vector) {
                for (int r = from; r < to; r++) {
                    VectorLayernorm.forward(x, a.off[0] + r * dim, gamma, go, beta, bo, y, a.off[3] + r * dim, dim, eps,
                            a.f[4], a.off[4] + r, a.f[5], a.off[5] + r);
                }
                return;
            }
            for (int r = from; r < to; r++) {
                int xo = a.off[0] + r * dim;
                int yo = a.off[3] + r * dim;
                double mean = NormCpu.planeSum(x, xo, dim) / dim;
                double var = NormCpu.planeSquares(x, xo, dim, mean) / dim;
                double rstd = 1 / Math.sqrt(var + eps);
                for (int j = 0; j < dim; j++) {
                    y[yo + j] = (float) ((x[xo + j] - mean) * rstd * gamma[go + j] + beta[bo + j]);
                }
                a.f[4][a.off[4] + r] = (float) mean;
                a.f[5][a.off[5] + r] = (float) rstd;
            }
        }
    }

    /** One row at a time: the two row means in float64, then dx. */
    private static final class Backward extends CpuOps.Ranged {
        private final boolean vector;

        Backward(CpuPool pool, boolean vector) {
            super(pool, 1);
            this.vector = vector;
        }

        @Override
        int grain(CpuOps.Args a) {
            return rowGrain(a.n[1]);
        }

        @Override
        public void run(int from, int to) {
            int dim = a.n[1];
            float[] x = a.f[0];
            float[] dy = a.f[1];
            float[] gamma = a.f[4];
            float[] dx = a.f[5];
            int go = a.off[4];
            for (int r = from; r < to; r++) {
                double mean = a.f[2][a.off[2] + r];
                double rstd = a.f[3][a.off[3] + r];
                int xo = a.off[0] + r * dim;
                int yo = a.off[1] + r * dim;
                int dxo = a.off[5] + r * dim;
                if (vector) {
                    VectorLayernorm.backward(x, xo, dy, yo, gamma, go, dx, dxo, dim, a.f[2][a.off[2] + r], a.f[3][a.off[3] + r]);
                    continue;
                }
                double sg0 = 0;
                double sg1 = 0;
                double sx0 = 0;
                double sx1 = 0;
                int j = 0;
                for (; j + 1 < dim; j += 2) {
                    double g0 = (double) dy[yo + j] * gamma[go + j];
                    double g1 = (double) dy[yo + j + 1] * gamma[go + j + 1];
                    sg0 += g0;
                    sg1 += g1;
                    sx0 += g0 * ((x[xo + j] - mean) * rstd);
                    sx1 += g1 * ((x[xo + j + 1] - mean) * rstd);
                }
                for (; j < dim; j++) {
                    double g0 = (double) dy[yo + j] * gamma[go + j];
                    sg0 += g0;
                    sx0 += g0 * ((x[xo + j] - mean) * rstd);
                }
                double mg = (sg0 + sg1) / dim;
                double mgx = (sx0 + sx1) / dim;
                for (j = 0; j < dim; j++) {
                    double xhat = (x[xo + j] - mean) * rstd;
                    dx[dxo + j] = (float) (rstd * ((double) dy[yo + j] * gamma[go + j] - mg - xhat * mgx));
                }
            }
        }
    }

    /**
     * dgamma, dbeta over a range of columns: the rows in order, each column's sums in float64 in a
     * per-thread scratch, grown only when a wider range comes (a step allocates nothing).
     */
    private static final class ParamGrads extends CpuOps.Ranged {
        private final ThreadLocal<double[][]> scratch = ThreadLocal.withInitial(() -> new double[2][0]);

        ParamGrads(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return Math.max(64, GRAIN / Math.max(1, a.n[0]));
        }

        @Override
        public void run(int c0, int c1) {
            int rows = a.n[0];
            int dim = a.n[1];
            float[] x = a.f[0];
            float[] dy = a.f[1];
            int w = c1 - c0;
            double[][] sums = scratch.get();
            if (sums[0].length < w) {
                sums[0] = new double[w];
                sums[1] = new double[w];
            }
            double[] dg = sums[0];
            double[] db = sums[1];
            java.util.Arrays.fill(dg, 0, w, 0.0);
            java.util.Arrays.fill(db, 0, w, 0.0);
            for (int r = 0; r < rows; r++) {
                double mean = a.f[2][a.off[2] + r];
                double rstd = a.f[3][a.off[3] + r];
                int xo = a.off[0] + r * dim + c0;
                int yo = a.off[1] + r * dim + c0;
                for (int k = 0; k < w; k++) {
                    double g = dy[yo + k];
                    db[k] += g;
                    dg[k] += g * ((x[xo + k] - mean) * rstd);
                }
            }
            for (int k = 0; k < w; k++) {
                a.f[4][a.off[4] + c0 + k] = (float) dg[k];
                a.f[5][a.off[5] + c0 + k] = (float) db[k];
            }
        }
    }
}
