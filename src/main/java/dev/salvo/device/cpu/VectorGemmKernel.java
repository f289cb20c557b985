package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API micro-kernel for {@link CpuGemm}: an {@code MR x NR} tile of C ({@code MR = 6},
 * {@code NR = 2 * lanes}) held in 12 accumulators, updated per depth step with one broadcast of
 * A and two FMAs per row. Only loaded once {@link CpuGemm#vectorApiAvailable()} returned true,
 * so {@code jdk.incubator.vector} is never touched on a JVM started without it.
 *
 * <p>Operands are packed by {@link CpuGemm}: A micro-panels hold {@code MR} rows interleaved
 * ({@code ap[p * MR + i]}), B micro-panels hold {@code NR} columns ({@code bp[p * NR + j]}).
 */
final class VectorGemmKernel {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;

    private VectorGemmKernel() {
    }

    /** Whether the preferred species is wide enough for the kernel to beat the scalar loops. */
    static boolean usable() {
        return L >= 4;
    }

    /**
     * C block ({@code mb x nb} at {@code c[cOff]}, row stride {@code ldc}) = (or +=, if {@code acc})
     * packed A block ({@code ceil(mb/MR)} micro-panels of {@code kb*MR}) times packed B block
     * ({@code ceil(nb/NR)} micro-panels of {@code kb*NR} from {@code bOff}). Edge tiles go through
     * {@code tile} ({@code MR*NR}) and a partial store.
     */
    static void macro(int mb, int nb, int kb, float[] ap, float[] bp, int bOff,
                      float[] c, int cOff, int ldc, boolean acc, float[] tile) {
        for (int jr = 0; jr < nb; jr += NR) {
            int nr = Math.min(NR, nb - jr);
            int bo = bOff + jr * kb;
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                int ao = ir * kb;
                int co = cOff + ir * ldc + jr;
                if (mr == MR && nr == NR) {
                    kernel(kb, ap, ao, bp, bo, c, co, ldc, acc);
                } else {
                    kernel(kb, ap, ao, bp, bo, tile, 0, NR, false);
                    CpuGemm.storeEdge(tile, NR, mr, nr, c, co, ldc, acc);
                }
            }
        }
    }

    static void kernel(int kb, float[] ap, int ao, float[] bp, int bo,
                       float[] c, int co, int ldc, boolean acc) {
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
        FloatVector c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        for (int p = 0; p < kb; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo);
            FloatVector b1 = FloatVector.fromArray(S, bp, bo + L);
            FloatVector a;
            a = FloatVector.broadcast(S, ap[ao]);
            c00 = a.fma(b0, c00);
            c01 = a.fma(b1, c01);
            a = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = a.fma(b0, c10);
            c11 = a.fma(b1, c11);
            a = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = a.fma(b0, c20);
            c21 = a.fma(b1, c21);
            a = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = a.fma(b0, c30);
            c31 = a.fma(b1, c31);
            a = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = a.fma(b0, c40);
            c41 = a.fma(b1, c41);
            a = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = a.fma(b0, c50);
            c51 = a.fma(b1, c51);
            ao += MR;
            bo += NR;
        }
        if (acc) {
            int o = co;
            c00 = c00.add(FloatVector.fromArray(S, c, o));
            c01 = c01.add(FloatVector.fromArray(S, c, o + L));
            o += ldc;
            c10 = c10.add(FloatVector.fromArray(S, c, o));
            c11 = c11.add(FloatVector.fromArray(S, c, o + L));
            o += ldc;
            c20 = c20.add(FloatVector.fromArray(S, c, o));
            c21 = c21.add(FloatVector.fromArray(S, c, o + L));
            o += ldc;
            c30 = c30.add(FloatVector.fromArray(S, c, o));
            c31 = c31.add(FloatVector.fromArray(S, c, o + L));
            o += ldc;
            c40 = c40.add(FloatVector.fromArray(S, c, o));
            c41 = c41.add(FloatVector.fromArray(S, c, o + L));
            o += ldc;
            c50 = c50.add(FloatVector.fromArray(S, c, o));
            c51 = c51.add(FloatVector.fromArray(S, c, o + L));
        }
        c00.intoArray(c, co);
        c01.intoArray(c, co + L);
        co += ldc;
        c10.intoArray(c, co);
        c11.intoArray(c, co + L);
        co += ldc;
        c20.intoArray(c, co);
        c21.intoArray(c, co + L);
        co += ldc;
        c30.intoArray(c, co);
        c31.intoArray(c, co + L);
        co += ldc;
        c40.intoArray(c, co);
        c41.intoArray(c, co + L);
        co += ldc;
        c50.intoArray(c, co);
        c51.intoArray(c, co + L);
    }
}
