package dev.salvo.device.cpu;

import java.util.Arrays;

/**
 * CPU bodies of {@code kernels/reduce.kernel} ({@link dev.salvo.device.ops.ReduceOps}). Column sums
 * split the columns over the pool, each column summed over the rows in order in float32 (as the
 * kernel sums); the total takes {@link #CHUNKS} fixed chunks with float64 partials, combined in
 * chunk order and rounded once. The chunks depend on the length only (not on the thread count), so
 * a sum is bitwise the same on any pool.
 */
final class ReduceCpu implements CpuOps.Family {

    /** Chunks of the total, whatever the thread count. */
    static final int CHUNKS = 16;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "column_sums" -> new ColumnSums(pool);
            case "sum_all" -> new SumAll(pool);
            case "sumsq_all" -> new SumSquares(pool);
            default -> null;
        };
    }

    /** out (C) = sum over the rows of x (R,C), split over the columns. */
    private static final class ColumnSums extends CpuOps.Ranged {
        ColumnSums(CpuPool pool) {
            super(pool, 64);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[1];
        }

        @Override
        public void run(int c0, int c1) {
            int rows = a.n[0];
            int cols = a.n[1];
            float[] xv = a.f[0];
            int xo = a.off[0];
            float[] ov = a.f[1];
            int oo = a.off[1];
            Arrays.fill(ov, oo + c0, oo + c1, 0f);
            for (int r = 0; r < rows; r++) {
                int row = xo + r * cols;
                for (int c = c0; c < c1; c++) {
                    ov[oo + c] += xv[row + c];
                }
            }
        }
    }

    /** out (1) = the float64 sum of x, chunk partials added in order, rounded once. Allocates nothing per call. */
    private static final class SumAll implements CpuOps.Body, CpuPool.Task {
        private final CpuPool pool;
        private final double[] partials = new double[CHUNKS];
        private CpuOps.Args a;

        SumAll(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                pool.run(CHUNKS, this);
            } finally {
                a = null;
            }
            double s = 0;
            for (double p : partials) {
                s += p;
            }
            args.f[1][args.off[1]] = (float) s;
        }

        @Override
        public void run(int task, int worker) {
            int n = a.n[0];
            int xo = a.off[0];
            int from = CpuPool.bound(n, CHUNKS, task);
            int to = CpuPool.bound(n, CHUNKS, task + 1);
            float[] xv = a.f[0];
            double s = 0;
            for (int k = from; k < to; k++) {
                s += xv[xo + k];
            }
            partials[task] = s;
        }
    }

    /** part (P) = float64 sums of squares of the P fixed chunks of x, each rounded once; split over the parts. */
    private static final class SumSquares extends CpuOps.Ranged {
        SumSquares(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return Math.max(1, (1 << 16) / Math.max(1, a.n[0] / a.n[1]));
        }

        @Override
        public void run(int p0, int p1) {
            int n = a.n[0];
            int parts = a.n[1];
            float[] x = a.f[0];
            int xo = a.off[0];
            for (int p = p0; p < p1; p++) {
                int from = xo + dev.salvo.device.ops.ReduceOps.chunk(n, parts, p);
                int to = xo + dev.salvo.device.ops.ReduceOps.chunk(n, parts, p + 1);
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                int k = from;
                for (; k + 3 < to; k += 4) {
                    double v0 = x[k];
                    double v1 = x[k + 1];
                    double v2 = x[k + 2];
                    double v3 = x[k + 3];
                    s0 += v0 * v0;
                    s1 += v1 * v1;
                    s2 += v2 * v2;
                    s3 += v3 * v3;
                }
                for (; k < to; k++) {
                    double v = x[k];
                    s0 += v * v;
                }
                a.f[1][a.off[1] + p] = (float) ((s0 + s1) + (s2 + s3));
            }
        }
    }
}
