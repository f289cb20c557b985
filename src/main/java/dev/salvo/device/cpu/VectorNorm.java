package dev.salvo.device.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float64 plane sums of {@link NormCpu}'s batch-norm reductions with the Vector API (and its
 * two elementwise passes, lane by lane the scalar float formulas): floats
 * widened to doubles lane by lane ({@code L} doubles a vector), two vector accumulators (even and
 * odd vectors of the plane) added lanewise, the lanes added in lane order, then the elements past
 * the last whole pair of vectors in order. Floats are read in vectors of the preferred shape only
 * (the shape the matmul kernel uses: another float shape in the same JVM was seen to delay C2's
 * compilation of that kernel). The order depends only on the plane length (and the
 * machine's vector width), never on the thread count. Loaded only when
 * {@link CpuGemm#vectorApiAvailable()}.
 */
final class VectorNorm {

    static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    static final int L = D.length();
    /** Floats of the preferred shape: {@code 2 L} lanes, widened half by half. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Doubles of scratch a call needs. */
    static final int SCRATCH = 2 * L;

    private VectorNorm() {
    }

    private static DoubleVector widen(FloatVector v, int part) {
        return (DoubleVector) v.convertShape(VectorOperators.F2D, D, part);
    }

    private static double lanes(DoubleVector v, double[] t, int at) {
        v.intoArray(t, at);
        double s = t[at];
        for (int l = 1; l < L; l++) {
            s += t[at + l];
        }
        return s;
    }

    /** The sum of {@code x[o..o+len)}; {@code t} is {@link #SCRATCH} doubles. */
    static double sum(float[] x, int o, int len, double[] t) {
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int k = 0;
        for (; k + 2 * L <= len; k += 2 * L) {
            FloatVector v = FloatVector.fromArray(F, x, o + k);
            a0 = a0.add(widen(v, 0));
            a1 = a1.add(widen(v, 1));
        }
        double s = lanes(a0.add(a1), t, 0);
        for (; k < len; k++) {
            s += x[o + k];
        }
        return s;
    }

    /** The sum of {@code (x - mean)^2} over {@code x[o..o+len)}. */
    static double squares(float[] x, int o, int len, double mean, double[] t) {
        DoubleVector mv = DoubleVector.broadcast(D, mean);
        DoubleVector a0 = DoubleVector.zero(D);
        DoubleVector a1 = a0;
        int k = 0;
        for (; k + 2 * L <= len; k += 2 * L) {
            FloatVector v = FloatVector.fromArray(F, x, o + k);
            DoubleVector d0 = widen(v, 0).sub(mv);
            DoubleVector d1 = widen(v, 1).sub(mv);
            a0 = a0.add(d0.mul(d0));
            a1 = a1.add(d1.mul(d1));
        }
        double s = lanes(a0.add(a1), t, 0);
        for (; k < len; k++) {
            double d = x[o + k] - mean;
            s += d * d;
        }
        return s;
    }

    /**
     * {@code t[0] = sum dy}, {@code t[1] = sum dy ((x - mean) invstd)} over one plane ({@code x}
     * from {@code xo}, {@code dy} from {@code yo}, {@code len} values).
     */
    static void dbdg(float[] x, int xo, float[] dy, int yo, int len, double mean, double invstd, double[] t) {
        DoubleVector mv = DoubleVector.broadcast(D, mean);
        DoubleVector iv = DoubleVector.broadcast(D, invstd);
        DoubleVector b0 = DoubleVector.zero(D);
        DoubleVector b1 = b0;
        DoubleVector g0 = b0;
        DoubleVector g1 = b0;
        int k = 0;
        for (; k + 2 * L <= len; k += 2 * L) {
            FloatVector yv = FloatVector.fromArray(F, dy, yo + k);
            FloatVector xv = FloatVector.fromArray(F, x, xo + k);
            DoubleVector y0 = widen(yv, 0);
            DoubleVector y1 = widen(yv, 1);
            b0 = b0.add(y0);
            b1 = b1.add(y1);
            g0 = g0.add(y0.mul(widen(xv, 0).sub(mv).mul(iv)));
            g1 = g1.add(y1.mul(widen(xv, 1).sub(mv).mul(iv)));
        }
        double db = lanes(b0.add(b1), t, 0);
        double dg = lanes(g0.add(g1), t, L);
        for (; k < len; k++) {
            double g = dy[yo + k];
            db += g;
            dg += g * ((x[xo + k] - mean) * invstd);
        }
        t[0] = db;
        t[1] = dg;
    }

    private static final VectorSpecies<Float> P = F;

    /** {@code y = (x - mean) stat gamma + beta} over one plane, the scalar formula lane by lane (no fused steps). */
    static void normalize(float[] x, int xo, float[] y, int yo, int len, float mean, float stat, float gamma, float beta) {
        int k = 0;
        int upper = P.loopBound(len);
        for (; k < upper; k += P.length()) {
            FloatVector.fromArray(P, x, xo + k).sub(mean).mul(stat).mul(gamma).add(beta).intoArray(y, yo + k);
        }
        for (; k < len; k++) {
            y[yo + k] = (x[xo + k] - mean) * stat * gamma + beta;
        }
    }

    /** {@code dx = (dy - (x - mu) k - gm) w} over one plane, the scalar formula lane by lane (dx may be dy). */
    static void gradient(float[] x, int xo, float[] dy, int yo, float[] dx, int dxo, int len, float mu, float k, float gm, float w) {
        int q = 0;
        int upper = P.loopBound(len);
        for (; q < upper; q += P.length()) {
            FloatVector xh = FloatVector.fromArray(P, x, xo + q).sub(mu).mul(k);
            FloatVector.fromArray(P, dy, yo + q).sub(xh).sub(gm).mul(w).intoArray(dx, dxo + q);
        }
        for (; q < len; q++) {
            dx[dxo + q] = (dy[yo + q] - (x[xo + q] - mu) * k - gm) * w;
        }
    }
}
