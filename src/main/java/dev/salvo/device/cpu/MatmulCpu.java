package dev.salvo.device.cpu;

import dev.salvo.device.Activation;

/**
 * CPU body of {@code kernels/matmul.kernel} ({@link dev.salvo.device.ops.MatmulOps}): the product
 * on the device's cache-blocked {@link CpuGemm} (added to z when the call accumulates), then the
 * epilogue over the rows of every entry, {@code z += bias} and {@code y = act(z)}, split over the
 * pool. The shape goes to the gemm as its fields, so a run allocates nothing.
 */
final class MatmulCpu implements CpuOps.Family {

    // the slots of MatmulOps.MATMUL: ints m, n, k, transA, transB, hasBias, act, hasY, batch, strideA, strideB, strideC, beta
    private static final int M = 0, N = 1, K = 2, TRANS_A = 3, TRANS_B = 4, HAS_BIAS = 5, ACT = 6, HAS_Y = 7, BATCH = 8,
            STRIDE_A = 9, STRIDE_B = 10, STRIDE_C = 11, BETA = 12;
    // buffers a, b, bias, z, y
    private static final int A = 0, B = 1, BIAS = 2, Z = 3, Y = 4;

    /** Elements per epilogue task at least, so small products stay on one thread. */
    private static final int GRAIN = 1 << 14;

    private static final Activation[] ACTIVATIONS = Activation.values();

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        throw new UnsupportedOperationException("the matmul bodies need the device's gemm (CpuOps.Family#body(String, CpuOps))");
    }

    @Override
    public CpuOps.Body body(String name, CpuOps ops) {
        return name.equals("matmul") ? new Matmul(ops.pool(), ops.gemm(), ops.simd()) : null;
    }

    /** The product, then the epilogue over the batch's rows (row r is row r % m of entry r / m). */
    private static final class Matmul implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private final CpuGemm gemm;
        private final boolean simd;
        /** The call in flight; null between calls. */
        private CpuOps.Args a;

        Matmul(CpuPool pool, CpuGemm gemm, boolean simd) {
            this.pool = pool;
            this.gemm = gemm;
            this.simd = simd;
        }

        @Override
        public void run(CpuOps.Args args) {
            int[] n = args.n;
            gemm.multiply(n[M], n[N], n[K], n[TRANS_A] != 0, n[TRANS_B] != 0, n[BATCH], n[STRIDE_A], n[STRIDE_B], n[STRIDE_C],
                    n[BETA] != 0, args.f[A], args.off[A], args.f[B], args.off[B], args.f[Z], args.off[Z]);
            if (n[HAS_BIAS] == 0 && n[HAS_Y] == 0 || n[N] == 0) {
                return;
            }
            // n > 0: the entries' rows (batch * m * n <= z's length) fit an int
            long rows = (long) n[M] * n[BATCH];
            a = args;
            try {
                pool.forRange((int) rows, Math.max(1, GRAIN / n[N]), this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int r0, int r1) {
            int m = a.n[M];
            int n = a.n[N];
            long stride = a.n[STRIDE_C];
            float[] zv = a.f[Z];
            int zo = a.off[Z];
            float[] bv = a.n[HAS_BIAS] != 0 ? a.f[BIAS] : null;
            int bo = a.off[BIAS];
            float[] y = a.n[HAS_Y] != 0 ? a.f[Y] : null;
            int yo = a.off[Y];
            Activation act = ACTIVATIONS[a.n[ACT]];
            for (int r = r0; r < r1; r++) {
                int e = r / m;
                int within = (int) (e * stride) + (r - e * m) * n;
                int row = zo + within;
                if (bv != null) {
                    for (int c = 0; c < n; c++) {
                        zv[row + c] += bv[bo + c];
                    }
                }
                if (y != null) {
                    ActivationCpu.activate(act, zv, row, y, yo + within, n, simd);
                }
            }
        }
    }
}
