package dev.salvo.device.cpu;

/**
 * Plain-Java kernel for {@link CpuGemm}, used when the Vector API is absent or disabled.
 *
 * <p>C2 (JDK 17) only auto-vectorizes a loop when it can rule out a dependence between its
 * loads and stores, which it cannot for two offsets into arrays that may be the same one. So
 * here every array in the hot loop is indexed by the same loop variable: op(B) is packed as
 * {@code kb} separate row arrays ({@code bRows[p][col]}, columns at their block position), and
 * four rows of C accumulate in four separate per-worker row arrays at the same column index.
 * The inner loop, {@code t_i[j] += a_i * bRow[j]} over a strip of columns, then becomes SIMD
 * multiply and add. A is packed in micro-panels of {@code MR = 4} interleaved rows (zero-padded).
 */
final class ScalarGemmKernel {

    static final int MR = 4;
    /** Column granularity of the work split and of the B packing tasks. */
    static final int NR = 32;
    /** Columns per strip: keeps {@code kb x STRIP} of packed B in L2 while the A block is swept. */
    static final int STRIP = 256;

    private ScalarGemmKernel() {
    }

    /** Worker scratch: four accumulator rows, as long as the widest column block seen. */
    static final class Scratch {
        float[] r0 = new float[0];
        float[] r1 = r0;
        float[] r2 = r0;
        float[] r3 = r0;

        void ensure(int width) {
            if (r0.length < width) {
                r0 = new float[width];
                r1 = new float[width];
                r2 = new float[width];
                r3 = new float[width];
            }
        }
    }

    /**
     * C rows {@code [0, mb)} (row {@code i} at {@code c[cRow0 + i*ldc]}), columns
     * {@code [col0, col0+cols)} of the current block = (or += if {@code acc}) packed A block times
     * {@code bRows[0..kb)[col0..col0+cols)}.
     */
    static void macro(int mb, int col0, int cols, int kb, float[] ap, float[][] bRows,
                      float[] c, int cRow0, int ldc, boolean acc, Scratch s) {
        int end = col0 + cols;
        for (int j0 = col0; j0 < end; j0 += STRIP) {
            int j1 = Math.min(end, j0 + STRIP);
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                kernel(kb, ap, ir * kb, bRows, j0, j1, s.r0, s.r1, s.r2, s.r3);
                int co = cRow0 + ir * ldc;
                GemmPacking.storeRow(s.r0, j0, j1 - j0, c, co + j0, acc);
                if (mr > 1) {
                    GemmPacking.storeRow(s.r1, j0, j1 - j0, c, co + ldc + j0, acc);
                }
                if (mr > 2) {
                    GemmPacking.storeRow(s.r2, j0, j1 - j0, c, co + 2 * ldc + j0, acc);
                }
                if (mr > 3) {
                    GemmPacking.storeRow(s.r3, j0, j1 - j0, c, co + 3 * ldc + j0, acc);
                }
            }
        }
    }

    static void kernel(int kb, float[] ap, int ao, float[][] bRows, int j0, int j1,
                       float[] t0, float[] t1, float[] t2, float[] t3) {
        for (int j = j0; j < j1; j++) {
            t0[j] = 0f;
            t1[j] = 0f;
            t2[j] = 0f;
            t3[j] = 0f;
        }
        for (int p = 0; p < kb; p++) {
            float a0 = ap[ao];
            float a1 = ap[ao + 1];
            float a2 = ap[ao + 2];
            float a3 = ap[ao + 3];
            float[] b = bRows[p];
            for (int j = j0; j < j1; j++) {
                float x = b[j];
                t0[j] += a0 * x;
                t1[j] += a1 * x;
                t2[j] += a2 * x;
                t3[j] += a3 * x;
            }
            ao += MR;
        }
    }

    /** {@code bRows[p][c0+j] = op(B)[pc+p][col+j]} for {@code p < kb, j < cols}. */
    static void packB(float[] b, int bOff, boolean transB, int n, int k, int col, int cols,
                      int pc, int kb, float[][] bRows, int c0) {
        if (!transB) {
            for (int p = 0; p < kb; p++) {
                System.arraycopy(b, bOff + (pc + p) * n + col, bRows[p], c0, cols);
            }
        } else {
            // B stored (N,K): read each B row once, scatter down the column of row arrays
            for (int j = 0; j < cols; j++) {
                int s = bOff + (col + j) * k + pc;
                for (int p = 0; p < kb; p++) {
                    bRows[p][c0 + j] = b[s + p];
                }
            }
        }
    }
}
