package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API micro-kernel for {@link CpuGemm}: an {@code MR x NR} tile of C ({@code MR = 12},
 * {@code NR = 2 * lanes}, so 12 x 32 with AVX-512) held in 24 accumulators. With 32 vector
 * registers that leaves room for the two B vectors and one A broadcast, and each depth step issues
 * 24 FMAs for 14 loads. The 6 x 2*lanes kernel it replaces (12 FMAs for 8 loads) was 1.1-1.3x
 * slower for whole products and 1.3x for the kernel alone on the development machine (see
 * src/test/java/dev/salvo/bench/RESULTS.md); 14 x 2 and 8 x 3 measured no better than 12 x 2, and
 * 8 x 3 (48 columns) wastes more of a 256-wide edge. Only loaded once {@link CpuGemm#vectorApiAvailable()}
 * returned true, so {@code jdk.incubator.vector} is never touched on a JVM started without it.
 *
 * <p>Operands are packed by {@link CpuGemm}: A micro-panels hold {@code MR} rows interleaved
 * ({@code ap[p * MR + i]}), B micro-panels hold {@code NR} columns ({@code bp[p * NR + j]}). The
 * kernel always writes its tile to a per-worker scratch array and {@link #store} moves it into C:
 * one small kernel method without a branch on accumulate/overwrite compiles quickly and is not
 * deoptimized when the first depth block gives way to the next.
 */
final class VectorGemmKernel {

    /**
     * On the Vector API path a {@link CpuGemm} task whose columns span at most this many {@code NR}
     * panels reads a non-transposed op(A) in place ({@link #macroRows}) instead of packing it:
     * packing costs the same whatever N, and over a few panels it is a third of the kernel's time
     * (768 x 128 x 128: 142 us packed, 116 us in place; even at 8 panels, 1.0x at 12). Same sums,
     * same order, so the choice never changes a bit.
     */
    static final int IN_PLACE_MAX_PANELS = 8;

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    static final int MR = 12;
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
     * ({@code ceil(nb/NR)} micro-panels of {@code kb*NR} from {@code bOff}); {@code tile} is
     * {@code MR*NR} scratch. Partial tiles at the bottom and right edges are stored partially.
     */
    static void macro(int mb, int nb, int kb, float[] ap, float[] bp, int bOff,
                      float[] c, int cOff, int ldc, boolean acc, float[] tile) {
        for (int jr = 0; jr < nb; jr += NR) {
            int nr = Math.min(NR, nb - jr);
            int bo = bOff + jr * kb;
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                int co = cOff + ir * ldc + jr;
                kernel(kb, ap, ir * kb, bp, bo, tile);
                if (nr == NR) {
                    store(tile, mr, c, co, ldc, acc);
                } else {
                    GemmPacking.storeEdge(tile, NR, mr, nr, c, co, ldc, acc);
                }
            }
        }
    }

    /** Rows {@code [0, mr)} of the tile (full {@code NR} width) into C at {@code co} (row stride {@code ldc}), added to C if {@code acc}. */
    static void store(float[] t, int mr, float[] c, int co, int ldc, boolean acc) {
        // two loops, no vector merged across a branch: a vector phi can leave C2 unable to
        // intrinsify the store, which then runs the Vector API's slow Java fallback
        if (acc) {
            for (int i = 0; i < mr; i++) {
                int to = i * NR;
                int o = co + i * ldc;
                for (int j = 0; j < NR; j += L) {
                    FloatVector.fromArray(S, t, to + j).add(FloatVector.fromArray(S, c, o + j)).intoArray(c, o + j);
                }
            }
        } else {
            for (int i = 0; i < mr; i++) {
                int to = i * NR;
                int o = co + i * ldc;
                for (int j = 0; j < NR; j += L) {
                    FloatVector.fromArray(S, t, to + j).intoArray(c, o + j);
                }
            }
        }
    }

    /**
     * As {@link #macro} with op(A) read in place (not transposed, row stride {@code lda}, the block's
     * first element at {@code a[aOff]}): full {@code MR}-row micro-panels run {@link #kernelRows}
     * with no packing, a partial last one is packed into {@code ap} first. The same sums in the
     * same order as {@link #macro} on the packed block, so the same bits.
     */
    static void macroRows(int mb, int nb, int kb, float[] a, int aOff, int lda, float[] ap, float[] bp, int bOff,
                          float[] c, int cOff, int ldc, boolean acc, float[] tile) {
        int full = mb - mb % MR;
        if (full < mb) {
            GemmPacking.packA(a, aOff + full * lda, false, mb - full, lda, 0, mb - full, 0, kb, ap, MR);
        }
        for (int jr = 0; jr < nb; jr += NR) {
            int nr = Math.min(NR, nb - jr);
            int bo = bOff + jr * kb;
            for (int ir = 0; ir < mb; ir += MR) {
                int mr = Math.min(MR, mb - ir);
                int co = cOff + ir * ldc + jr;
                if (ir < full) {
                    kernelRows(kb, a, aOff + ir * lda, lda, bp, bo, tile);
                } else {
                    kernel(kb, ap, 0, bp, bo, tile);
                }
                if (nr == NR) {
                    store(tile, mr, c, co, ldc, acc);
                } else {
                    GemmPacking.storeEdge(tile, NR, mr, nr, c, co, ldc, acc);
                }
            }
        }
    }

    /**
     * The {@code MR x NR} tile {@code t} (row-major, row stride {@code NR}) = A micro-panel
     * ({@code ap[ao + p*MR + i]}) times B micro-panel ({@code bp[bo + p*NR + j]}) over {@code kb}
     * depth steps, each element summed in ascending {@code p}. 24 accumulators, two B loads and
     * twelve A broadcasts per step; indices are affine in {@code p} so C2 hoists the range checks.
     */
    static void kernel(int kb, float[] ap, int ao, float[] bp, int bo, float[] t) {
        FloatVector c0_0 = FloatVector.zero(S);
        FloatVector c0_1 = c0_0, c1_0 = c0_0, c1_1 = c0_0, c2_0 = c0_0, c2_1 = c0_0, c3_0 = c0_0, c3_1 = c0_0, c4_0 = c0_0;
        FloatVector c4_1 = c0_0, c5_0 = c0_0, c5_1 = c0_0, c6_0 = c0_0, c6_1 = c0_0, c7_0 = c0_0, c7_1 = c0_0, c8_0 = c0_0;
        FloatVector c8_1 = c0_0, c9_0 = c0_0, c9_1 = c0_0, c10_0 = c0_0, c10_1 = c0_0, c11_0 = c0_0, c11_1 = c0_0;
        for (int p = 0; p < kb; p++) {
            int ai = ao + p * 12;
            int bi = bo + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi + 0 * L);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + 1 * L);
            FloatVector a0 = FloatVector.broadcast(S, ap[ai + 0]);
            c0_0 = a0.fma(b0, c0_0);
            c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, ap[ai + 1]);
            c1_0 = a1.fma(b0, c1_0);
            c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, ap[ai + 2]);
            c2_0 = a2.fma(b0, c2_0);
            c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, ap[ai + 3]);
            c3_0 = a3.fma(b0, c3_0);
            c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, ap[ai + 4]);
            c4_0 = a4.fma(b0, c4_0);
            c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, ap[ai + 5]);
            c5_0 = a5.fma(b0, c5_0);
            c5_1 = a5.fma(b1, c5_1);
            FloatVector a6 = FloatVector.broadcast(S, ap[ai + 6]);
            c6_0 = a6.fma(b0, c6_0);
            c6_1 = a6.fma(b1, c6_1);
            FloatVector a7 = FloatVector.broadcast(S, ap[ai + 7]);
            c7_0 = a7.fma(b0, c7_0);
            c7_1 = a7.fma(b1, c7_1);
            FloatVector a8 = FloatVector.broadcast(S, ap[ai + 8]);
            c8_0 = a8.fma(b0, c8_0);
            c8_1 = a8.fma(b1, c8_1);
            FloatVector a9 = FloatVector.broadcast(S, ap[ai + 9]);
            c9_0 = a9.fma(b0, c9_0);
            c9_1 = a9.fma(b1, c9_1);
            FloatVector a10 = FloatVector.broadcast(S, ap[ai + 10]);
            c10_0 = a10.fma(b0, c10_0);
            c10_1 = a10.fma(b1, c10_1);
            FloatVector a11 = FloatVector.broadcast(S, ap[ai + 11]);
            c11_0 = a11.fma(b0, c11_0);
            c11_1 = a11.fma(b1, c11_1);
        }
        c0_0.intoArray(t, 0 * L);
        c0_1.intoArray(t, 1 * L);
        c1_0.intoArray(t, 2 * L);
        c1_1.intoArray(t, 3 * L);
        c2_0.intoArray(t, 4 * L);
        c2_1.intoArray(t, 5 * L);
        c3_0.intoArray(t, 6 * L);
        c3_1.intoArray(t, 7 * L);
        c4_0.intoArray(t, 8 * L);
        c4_1.intoArray(t, 9 * L);
        c5_0.intoArray(t, 10 * L);
        c5_1.intoArray(t, 11 * L);
        c6_0.intoArray(t, 12 * L);
        c6_1.intoArray(t, 13 * L);
        c7_0.intoArray(t, 14 * L);
        c7_1.intoArray(t, 15 * L);
        c8_0.intoArray(t, 16 * L);
        c8_1.intoArray(t, 17 * L);
        c9_0.intoArray(t, 18 * L);
        c9_1.intoArray(t, 19 * L);
        c10_0.intoArray(t, 20 * L);
        c10_1.intoArray(t, 21 * L);
        c11_0.intoArray(t, 22 * L);
        c11_1.intoArray(t, 23 * L);
    }

    /**
     * As {@link #kernel}, with A read in place: row {@code i} of the micro-panel is
     * {@code a[ao + i*lda + p]} (op(A) not transposed, all {@code MR} rows present), so no packing.
     * The tile {@code t} (row-major, row stride {@code NR}) = those rows times B micro-panel ({@code bp[bo + p*NR + j]}) over {@code kb}
     * depth steps, each element summed in ascending {@code p}. 24 accumulators, two B loads and
     * twelve A broadcasts per step; indices are affine in {@code p} so C2 hoists the range checks.
     */
    static void kernelRows(int kb, float[] a, int ao, int lda, float[] bp, int bo, float[] t) {
        int r0 = ao, r1 = ao + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda, r6 = r5 + lda;
        int r7 = r6 + lda, r8 = r7 + lda, r9 = r8 + lda, r10 = r9 + lda, r11 = r10 + lda;
        FloatVector c0_0 = FloatVector.zero(S);
        FloatVector c0_1 = c0_0, c1_0 = c0_0, c1_1 = c0_0, c2_0 = c0_0, c2_1 = c0_0, c3_0 = c0_0, c3_1 = c0_0, c4_0 = c0_0;
        FloatVector c4_1 = c0_0, c5_0 = c0_0, c5_1 = c0_0, c6_0 = c0_0, c6_1 = c0_0, c7_0 = c0_0, c7_1 = c0_0, c8_0 = c0_0;
        FloatVector c8_1 = c0_0, c9_0 = c0_0, c9_1 = c0_0, c10_0 = c0_0, c10_1 = c0_0, c11_0 = c0_0, c11_1 = c0_0;
        for (int p = 0; p < kb; p++) {
            int bi = bo + p * 2 * L;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi + 0 * L);
            FloatVector b1 = FloatVector.fromArray(S, bp, bi + 1 * L);
            FloatVector a0 = FloatVector.broadcast(S, a[r0 + p]);
            c0_0 = a0.fma(b0, c0_0);
            c0_1 = a0.fma(b1, c0_1);
            FloatVector a1 = FloatVector.broadcast(S, a[r1 + p]);
            c1_0 = a1.fma(b0, c1_0);
            c1_1 = a1.fma(b1, c1_1);
            FloatVector a2 = FloatVector.broadcast(S, a[r2 + p]);
            c2_0 = a2.fma(b0, c2_0);
            c2_1 = a2.fma(b1, c2_1);
            FloatVector a3 = FloatVector.broadcast(S, a[r3 + p]);
            c3_0 = a3.fma(b0, c3_0);
            c3_1 = a3.fma(b1, c3_1);
            FloatVector a4 = FloatVector.broadcast(S, a[r4 + p]);
            c4_0 = a4.fma(b0, c4_0);
            c4_1 = a4.fma(b1, c4_1);
            FloatVector a5 = FloatVector.broadcast(S, a[r5 + p]);
            c5_0 = a5.fma(b0, c5_0);
            c5_1 = a5.fma(b1, c5_1);
            FloatVector a6 = FloatVector.broadcast(S, a[r6 + p]);
            c6_0 = a6.fma(b0, c6_0);
            c6_1 = a6.fma(b1, c6_1);
            FloatVector a7 = FloatVector.broadcast(S, a[r7 + p]);
            c7_0 = a7.fma(b0, c7_0);
            c7_1 = a7.fma(b1, c7_1);
            FloatVector a8 = FloatVector.broadcast(S, a[r8 + p]);
            c8_0 = a8.fma(b0, c8_0);
            c8_1 = a8.fma(b1, c8_1);
            FloatVector a9 = FloatVector.broadcast(S, a[r9 + p]);
            c9_0 = a9.fma(b0, c9_0);
            c9_1 = a9.fma(b1, c9_1);
            FloatVector a10 = FloatVector.broadcast(S, a[r10 + p]);
            c10_0 = a10.fma(b0, c10_0);
            c10_1 = a10.fma(b1, c10_1);
            FloatVector a11 = FloatVector.broadcast(S, a[r11 + p]);
            c11_0 = a11.fma(b0, c11_0);
            c11_1 = a11.fma(b1, c11_1);
        }
        c0_0.intoArray(t, 0 * L);
        c0_1.intoArray(t, 1 * L);
        c1_0.intoArray(t, 2 * L);
        c1_1.intoArray(t, 3 * L);
        c2_0.intoArray(t, 4 * L);
        c2_1.intoArray(t, 5 * L);
        c3_0.intoArray(t, 6 * L);
        c3_1.intoArray(t, 7 * L);
        c4_0.intoArray(t, 8 * L);
        c4_1.intoArray(t, 9 * L);
        c5_0.intoArray(t, 10 * L);
        c5_1.intoArray(t, 11 * L);
        c6_0.intoArray(t, 12 * L);
        c6_1.intoArray(t, 13 * L);
        c7_0.intoArray(t, 14 * L);
        c7_1.intoArray(t, 15 * L);
        c8_0.intoArray(t, 16 * L);
        c8_1.intoArray(t, 17 * L);
        c9_0.intoArray(t, 18 * L);
        c9_1.intoArray(t, 19 * L);
        c10_0.intoArray(t, 20 * L);
        c10_1.intoArray(t, 21 * L);
        c11_0.intoArray(t, 22 * L);
        c11_1.intoArray(t, 23 * L);
    }
}
