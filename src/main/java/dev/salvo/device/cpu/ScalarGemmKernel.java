package dev.salvo.device.cpu;

/**
 * Plain-Java micro-kernel for {@link CpuGemm}, used when the Vector API is absent or disabled.
 * An {@code MR x NR} tile ({@code MR = 4}, {@code NR = 32}) is accumulated in four separate row
 * arrays owned by the worker; the inner loop over the packed B row is a simple counted loop
 * over distinct arrays that C2's superword pass turns into SIMD multiply/add.
 */
final class ScalarGemmKernel {

    static final int MR = 4;
    static final int NR = 32;

    private ScalarGemmKernel() {
    }

    /** Worker scratch: the four accumulator rows. */
    static final class Scratch {
        final float[] r0 = new float[NR];
        final float[] r1 = new float[NR];
        final float[] r2 = new float[NR];
        final float[] r3 = new float[NR];
    }

    /** Same contract as {@link VectorGemmKernel#macro}. */
    static void macro(int mb, int nb, int kb, float[] ap, float[] bp, int bOff,
                      float[] c, int cOff, int ldc, boolean acc, Scratch s) {
        for (int jr = 0; jr < nb; jr += NR) {
            int nr = Math.min(NR, nb - jr);
            int bo = bOff + jr * kb;
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                kernel(kb, ap, ir * kb, bp, bo, s.r0, s.r1, s.r2, s.r3);
                int co = cOff + ir * ldc + jr;
                CpuGemm.storeRow(s.r0, 0, nr, c, co, acc);
                if (mr > 1) {
                    CpuGemm.storeRow(s.r1, 0, nr, c, co + ldc, acc);
                }
                if (mr > 2) {
                    CpuGemm.storeRow(s.r2, 0, nr, c, co + 2 * ldc, acc);
                }
                if (mr > 3) {
                    CpuGemm.storeRow(s.r3, 0, nr, c, co + 3 * ldc, acc);
                }
            }
        }
    }

    static void kernel(int kb, float[] ap, int ao, float[] bp, int bo,
                       float[] t0, float[] t1, float[] t2, float[] t3) {
        for (int j = 0; j < NR; j++) {
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
            for (int j = 0; j < NR; j++) {
                float b = bp[bo + j];
                t0[j] += a0 * b;
                t1[j] += a1 * b;
                t2[j] += a2 * b;
                t3[j] += a3 * b;
            }
            ao += MR;
            bo += NR;
        }
    }
}
