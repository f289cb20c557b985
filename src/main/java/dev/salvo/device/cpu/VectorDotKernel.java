package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Dot-product kernel for {@link CpuGemm}'s split-depth products in the NT form ({@code A (M,K)},
 * {@code B (N,K)}, both rows contiguous in the depth): {@code P[i][j] = A_i . B_j} over a depth
 * range, straight from the operands, without packing (packing these two long, thin operands
 * cost more than the multiply). Tiles of 4 rows of A by 4 rows of B keep 16 accumulators of
 * {@code L} lanes: 8 loads for 16 FMAs per step. A is the side swept in the inner loop, so the
 * caller passes the operand with fewer rows as A (its depth range stays in L2).
 *
 * <p>Each entry is summed in a fixed order that depends only on the depth range: lane {@code l}
 * accumulates the depths {@code k0 + l (mod L)} with fused multiply-adds, the lanes are added in
 * lane order, then the depths past the last whole vector, in order, with {@link Math#fma}. Loaded
 * only when {@link CpuGemm#vectorApiAvailable()}.
 */
final class VectorDotKernel {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();

    private VectorDotKernel() {
    }

    /**
     * {@code p[pOff + i*ldp + j] = sum_{q in [k0,k1)} a[aOff + i*lda + q] * b[bOff + j*ldb + q]}
     * for {@code i < m}, {@code j < n} (overwritten); {@code lanes} is scratch of {@code 16 L}.
     */
    static void dots(float[] a, int aOff, int lda, int m, float[] b, int bOff, int ldb, int n, int k0, int k1,
                     float[] p, int pOff, int ldp, float[] lanes) {
        int kv = k0 + S.loopBound(k1 - k0);
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            int b0 = bOff + j * ldb;
            int i = 0;
            for (; i + 4 <= m; i += 4) {
                dot4x4(a, aOff + i * lda, lda, b, b0, ldb, k0, kv, lanes);
                finish(lanes, 16, a, aOff + i * lda, lda, 4, b, b0, ldb, 4, kv, k1, p, pOff + i * ldp + j, ldp);
            }
            for (; i < m; i++) {
                dot1x4(a, aOff + i * lda, b, b0, ldb, k0, kv, lanes);
                finish(lanes, 4, a, aOff + i * lda, lda, 1, b, b0, ldb, 4, kv, k1, p, pOff + i * ldp + j, ldp);
            }
        }
        for (; j < n; j++) {
            for (int i = 0; i < m; i++) {
                dot1x1(a, aOff + i * lda, b, bOff + j * ldb, k0, kv, lanes);
                finish(lanes, 1, a, aOff + i * lda, lda, 1, b, bOff + j * ldb, ldb, 1, kv, k1, p, pOff + i * ldp + j, ldp);
            }
        }
    }

    /**
     * Entry {@code (r, c)} of the tile, whose lanes are at {@code lanes[(r*cols + c) * L]}: the
     * lanes added in order, then the tail depths {@code [kv, k1)} fused in order.
     */
    private static void finish(float[] lanes, int count, float[] a, int ao, int lda, int rows, float[] b, int bo, int ldb,
                               int cols, int kv, int k1, float[] p, int po, int ldp) {
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                int at = (r * cols + c) * L;
                float s = lanes[at];
                for (int l = 1; l < L; l++) {
                    s += lanes[at + l];
                }
                int ar = ao + r * lda;
                int br = bo + c * ldb;
                for (int q = kv; q < k1; q++) {
                    s = Math.fma(a[ar + q], b[br + q], s);
                }
                p[po + r * ldp + c] = s;
            }
        }
    }

    private static void dot4x4(float[] a, int ao, int lda, float[] b, int bo, int ldb, int k0, int kv, float[] t) {
        FloatVector c00 = FloatVector.zero(S);
        FloatVector c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int a0 = ao;
        int a1 = ao + lda;
        int a2 = ao + 2 * lda;
        int a3 = ao + 3 * lda;
        int b0 = bo;
        int b1 = bo + ldb;
        int b2 = bo + 2 * ldb;
        int b3 = bo + 3 * ldb;
        for (int q = k0; q < kv; q += L) {
            FloatVector y0 = FloatVector.fromArray(S, b, b0 + q);
            FloatVector y1 = FloatVector.fromArray(S, b, b1 + q);
            FloatVector y2 = FloatVector.fromArray(S, b, b2 + q);
            FloatVector y3 = FloatVector.fromArray(S, b, b3 + q);
            FloatVector x = FloatVector.fromArray(S, a, a0 + q);
            c00 = x.fma(y0, c00);
            c01 = x.fma(y1, c01);
            c02 = x.fma(y2, c02);
            c03 = x.fma(y3, c03);
            x = FloatVector.fromArray(S, a, a1 + q);
            c10 = x.fma(y0, c10);
            c11 = x.fma(y1, c11);
            c12 = x.fma(y2, c12);
            c13 = x.fma(y3, c13);
            x = FloatVector.fromArray(S, a, a2 + q);
            c20 = x.fma(y0, c20);
            c21 = x.fma(y1, c21);
            c22 = x.fma(y2, c22);
            c23 = x.fma(y3, c23);
            x = FloatVector.fromArray(S, a, a3 + q);
            c30 = x.fma(y0, c30);
            c31 = x.fma(y1, c31);
            c32 = x.fma(y2, c32);
            c33 = x.fma(y3, c33);
        }
        c00.intoArray(t, 0);
        c01.intoArray(t, L);
        c02.intoArray(t, 2 * L);
        c03.intoArray(t, 3 * L);
        c10.intoArray(t, 4 * L);
        c11.intoArray(t, 5 * L);
        c12.intoArray(t, 6 * L);
        c13.intoArray(t, 7 * L);
        c20.intoArray(t, 8 * L);
        c21.intoArray(t, 9 * L);
        c22.intoArray(t, 10 * L);
        c23.intoArray(t, 11 * L);
        c30.intoArray(t, 12 * L);
        c31.intoArray(t, 13 * L);
        c32.intoArray(t, 14 * L);
        c33.intoArray(t, 15 * L);
    }

    private static void dot1x4(float[] a, int ao, float[] b, int bo, int ldb, int k0, int kv, float[] t) {
        FloatVector c0 = FloatVector.zero(S);
        FloatVector c1 = c0, c2 = c0, c3 = c0;
        int b1 = bo + ldb;
        int b2 = bo + 2 * ldb;
        int b3 = bo + 3 * ldb;
        for (int q = k0; q < kv; q += L) {
            FloatVector x = FloatVector.fromArray(S, a, ao + q);
            c0 = x.fma(FloatVector.fromArray(S, b, bo + q), c0);
            c1 = x.fma(FloatVector.fromArray(S, b, b1 + q), c1);
            c2 = x.fma(FloatVector.fromArray(S, b, b2 + q), c2);
            c3 = x.fma(FloatVector.fromArray(S, b, b3 + q), c3);
        }
        c0.intoArray(t, 0);
        c1.intoArray(t, L);
        c2.intoArray(t, 2 * L);
        c3.intoArray(t, 3 * L);
    }

    private static void dot1x1(float[] a, int ao, float[] b, int bo, int k0, int kv, float[] t) {
        FloatVector c = FloatVector.zero(S);
        for (int q = k0; q < kv; q += L) {
            c = FloatVector.fromArray(S, a, ao + q).fma(FloatVector.fromArray(S, b, bo + q), c);
        }
        c.intoArray(t, 0);
    }
}
