package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The layernorm forward and backward rows of {@link LayernormCpu} in float32 with the Vector API
 * (loaded only when {@code jdk.incubator.vector} is present), on the preferred float species only:
 * a second vector shape beside the one every other Vector API body uses made C2 give up the
 * intrinsics in those bodies (the gemm's tile store fell to the Java fallback).
 *
 * <p>Accuracy without float64: the forward sums {@code x - x0} ({@code x0} the row's first value,
 * so a row far from zero, as the samples' offset of 64, loses nothing to cancellation) and then
 * {@code d = (x - x0) - mean'} ({@code mean'} the shifted mean), in four vector accumulators (a
 * chain of {@code dim / (4 lanes)} terms per lane: 3 for dim 768 with 16 lanes), the lanes then
 * added in lane order, the tail after them. So the mean carries ~1e-6 of error on the samples
 * (within 1 of an offset) and y about the float32 rounding of {@code d rstd gamma + beta}: well
 * inside the ops' bounds (3e-5 forward, 2e-5 backward). The order depends on the row length
 * alone, never on the split or the thread count.
 */
final class VectorLayernorm {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorLayernorm() {
    }

    /** The lanes of {@code v} added in lane order. */
    private static float lanes(FloatVector v) {
        float s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** Row forward: y = (x - mean) rstd gamma + beta; mean and rstd stored at {@code means[mo]}, {@code rstds[ro]}. */
    static void forward(float[] x, int xo, float[] gamma, int go, float[] beta, int bo, float[] y, int yo, int dim, double eps,
                        float[] means, int mo, float[] rstds, int ro) {
        float x0 = x[xo];
        FloatVector v0 = FloatVector.broadcast(S, x0);
        int upper4 = dim - dim % (4 * L);
        int upper = dim - dim % L;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int j = 0;
        for (; j < upper4; j += 4 * L) {
            a0 = a0.add(FloatVector.fromArray(S, x, xo + j).sub(v0));
            a1 = a1.add(FloatVector.fromArray(S, x, xo + j + L).sub(v0));
            a2 = a2.add(FloatVector.fromArray(S, x, xo + j + 2 * L).sub(v0));
            a3 = a3.add(FloatVector.fromArray(S, x, xo + j + 3 * L).sub(v0));
        }
        for (; j < upper; j += L) {
            a0 = a0.add(FloatVector.fromArray(S, x, xo + j).sub(v0));
        }
        float sum = lanes(a0.add(a1).add(a2.add(a3)));
        for (; j < dim; j++) {
            sum += x[xo + j] - x0;
        }
        float shift = sum / dim;
        FloatVector sv = FloatVector.broadcast(S, shift);
        a0 = FloatVector.zero(S);
        a1 = a0;
        a2 = a0;
        a3 = a0;
        for (j = 0; j < upper4; j += 4 * L) {
            FloatVector d0 = FloatVector.fromArray(S, x, xo + j).sub(v0).sub(sv);
            FloatVector d1 = FloatVector.fromArray(S, x, xo + j + L).sub(v0).sub(sv);
            FloatVector d2 = FloatVector.fromArray(S, x, xo + j + 2 * L).sub(v0).sub(sv);
            FloatVector d3 = FloatVector.fromArray(S, x, xo + j + 3 * L).sub(v0).sub(sv);
            a0 = d0.fma(d0, a0);
            a1 = d1.fma(d1, a1);
            a2 = d2.fma(d2, a2);
            a3 = d3.fma(d3, a3);
        }
        for (; j < upper; j += L) {
            FloatVector d0 = FloatVector.fromArray(S, x, xo + j).sub(v0).sub(sv);
            a0 = d0.fma(d0, a0);
        }
        float sq = lanes(a0.add(a1).add(a2.add(a3)));
        for (; j < dim; j++) {
            float d = x[xo + j] - x0 - shift;
            sq = Math.fma(d, d, sq);
        }
        float rstd = (float) (1 / Math.sqrt((double) sq / dim + eps));
        FloatVector rv = FloatVector.broadcast(S, rstd);
        for (j = 0; j < upper; j += L) {
            FloatVector d = FloatVector.fromArray(S, x, xo + j).sub(v0).sub(sv);
            d.mul(rv).fma(FloatVector.fromArray(S, gamma, go + j), FloatVector.fromArray(S, beta, bo + j)).intoArray(y, yo + j);
        }
        for (; j < dim; j++) {
            float d = x[xo + j] - x0 - shift;
            y[yo + j] = Math.fma(d * rstd, gamma[go + j], beta[bo + j]);
        }
        means[mo] = (float) ((double) x0 + shift);
        rstds[ro] = rstd;
    }

    /** Row backward: dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma, xhat = (x - mean) rstd. */
    static void backward(float[] x, int xo, float[] dy, int yo, float[] gamma, int go, float[] dx, int dxo, int dim,
                         float mean, float rstd) {
        FloatVector mv = FloatVector.broadcast(S, mean);
        FloatVector rv = FloatVector.broadcast(S, rstd);
        int upper4 = dim - dim % (4 * L);
        int upper = dim - dim % L;
        FloatVector g0 = FloatVector.zero(S);
        FloatVector g1 = g0;
        FloatVector x0 = g0;
        FloatVector x1 = g0;
        int j = 0;
        for (; j < upper4; j += 2 * L) {
            FloatVector ga = FloatVector.fromArray(S, dy, yo + j).mul(FloatVector.fromArray(S, gamma, go + j));
            FloatVector gb = FloatVector.fromArray(S, dy, yo + j + L).mul(FloatVector.fromArray(S, gamma, go + j + L));
            g0 = g0.add(ga);
            g1 = g1.add(gb);
            x0 = ga.fma(FloatVector.fromArray(S, x, xo + j).sub(mv).mul(rv), x0);
            x1 = gb.fma(FloatVector.fromArray(S, x, xo + j + L).sub(mv).mul(rv), x1);
        }
        for (; j < upper; j += L) {
            FloatVector ga = FloatVector.fromArray(S, dy, yo + j).mul(FloatVector.fromArray(S, gamma, go + j));
            g0 = g0.add(ga);
            x0 = ga.fma(FloatVector.fromArray(S, x, xo + j).sub(mv).mul(rv), x0);
        }
        float sg = lanes(g0.add(g1));
        float sx = lanes(x0.add(x1));
        for (; j < dim; j++) {
            float g = dy[yo + j] * gamma[go + j];
            sg += g;
            sx = Math.fma(g, (x[xo + j] - mean) * rstd, sx);
        }
        float mg = sg / dim;
        float mgx = sx / dim;
        FloatVector mgv = FloatVector.broadcast(S, mg);
        FloatVector mgxv = FloatVector.broadcast(S, mgx);
        for (j = 0; j < upper; j += L) {
            FloatVector xhat = FloatVector.fromArray(S, x, xo + j).sub(mv).mul(rv);
            FloatVector g = FloatVector.fromArray(S, dy, yo + j).mul(FloatVector.fromArray(S, gamma, go + j));
            g.sub(mgv).sub(xhat.mul(mgxv)).mul(rv).intoArray(dx, dxo + j);
        }
        for (; j < dim; j++) {
            float xhat = (x[xo + j] - mean) * rstd;
            dx[dxo + j] = (dy[yo + j] * gamma[go + j] - mg - xhat * mgx) * rstd;
        }
    }
}
