package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * ReLU and GELU forward and backward with the Vector API, for {@link ActivationCpu}. Loaded only when
 * {@code jdk.incubator.vector} is present (see {@link CpuGemm#vectorApiAvailable()}). A lane mask
 * {@code v <= 0} (false for NaN) selects zero, so the lanes compute exactly the scalar select:
 * {@code relu(NaN) = NaN}, {@code relu(-0) = +0}, and backward {@code z <= 0 ? +0 : dy}.
 *
 * <p>GELU (tanh approximation) in float32 through one exponential, with no cancellation:
 * {@code 0.5 (1 + tanh u) = sigmoid(2u)}; with {@code e = exp(-2|u|)} (at most 1, never overflows)
 * and {@code r = 1 / (1 + e)}, {@code sigmoid(2u)} is {@code r} for {@code u >= 0} and {@code e r}
 * below, and {@code sigmoid(2u)(1 - sigmoid(2u)) = e r^2}. So {@code gelu(z) = z s} and
 * {@code gelu'(z) = s + 2 z u' e r^2}, {@code u = c (z + a z^3)}, {@code u' = c (1 + 3 a z^2)}.
 * The exponential is {@link #expNeg}, plain float32 arithmetic, and every loop's scalar tail
 * repeats the lanes' operations one for one, so an element's bits never depend on where a range
 * split puts it (nor on whether the JIT has compiled the vector code yet).
 * The second term is evaluated at z clamped to [-20, 20] (beyond, {@code e r^2 < 1e-37} makes it
 * nothing, and an unclamped {@code z u'} could overflow to inf times 0), and {@code z - z} is added
 * so that an infinite z gives NaN as the specification does. NaN propagates through every step.
 */
final class VectorActivation {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorActivation() {
    }

    static void relu(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int k = 0;
        int upper = S.loopBound(n);
        for (; k < upper; k += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + k);
            VectorMask<Float> off = v.compare(VectorOperators.LE, 0f);
            v.blend(zero, off).intoArray(y, yo + k);
        }
        ActivationCpu.relu(x, xo + k, y, yo + k, n - k);
    }

    private static final float GELU_C = (float) Math.sqrt(2.0 / Math.PI);
    private static final float GELU_A = 0.044715f;
    private static final float GELU_3A = 3 * 0.044715f;

    /** {@code y = gelu(x)} (tanh approximation), see the class comment. */
    static void gelu(float[] x, int xo, float[] y, int yo, int n) {
        int k = 0;
        int upper = S.loopBound(n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; k < upper; k += S.length()) {
            FloatVector z = FloatVector.fromArray(S, x, xo + k);
            FloatVector u = z.mul(z).mul(z).fma(FloatVector.broadcast(S, GELU_A), z).mul(GELU_C);
            FloatVector e = expNeg(u.abs().mul(-2f));
            FloatVector r = one.div(e.add(1f));
            FloatVector s = r.blend(e.mul(r), u.compare(VectorOperators.LT, 0f));
            z.mul(s).intoArray(y, yo + k);
        }
        for (; k < n; k++) {
            y[yo + k] = gelu(x[xo + k]);
        }
    }

    /** {@code dz = dy gelu'(z)}, see the class comment. */
    static void geluBackward(float[] z, int zo, float[] dy, int yo, float[] dz, int xo, int n) {
        int k = 0;
        int upper = S.loopBound(n);
        FloatVector one = FloatVector.broadcast(S, 1f);
        for (; k < upper; k += S.length()) {
            FloatVector v = FloatVector.fromArray(S, z, zo + k);
            FloatVector u = v.mul(v).mul(v).fma(FloatVector.broadcast(S, GELU_A), v).mul(GELU_C);
            FloatVector e = expNeg(u.abs().mul(-2f));
            FloatVector r = one.div(e.add(1f));
            FloatVector s = r.blend(e.mul(r), u.compare(VectorOperators.LT, 0f));
            FloatVector c = v.max(-20f).min(20f);
            FloatVector du = c.mul(c).fma(GELU_3A, 1f).mul(GELU_C);
            FloatVector d = c.mul(2f).mul(du).mul(e).mul(r).mul(r).add(s).add(v.sub(v));
            FloatVector.fromArray(S, dy, yo + k).mul(d).intoArray(dz, xo + k);
        }
        for (; k < n; k++) {
            dz[xo + k] = dy[yo + k] * geluDerivative(z[zo + k]);
        }
    }

    /** One lane of {@link #gelu(float[], int, float[], int, int)}: the same float32 operations, so the same bits. */
    static float gelu(float z) {
        float u = Math.fma(z * z * z, GELU_A, z) * GELU_C;
        float e = expNeg(Math.abs(u) * -2f);
        float r = 1f / (e + 1f);
        return z * (u < 0 ? e * r : r);
    }

    /** One lane of the derivative in {@link #geluBackward}: the same float32 operations. */
    static float geluDerivative(float z) {
        float u = Math.fma(z * z * z, GELU_A, z) * GELU_C;
        float e = expNeg(Math.abs(u) * -2f);
        float r = 1f / (e + 1f);
        float s = u < 0 ? e * r : r;
        float c = Math.min(Math.max(z, -20f), 20f);
        float du = Math.fma(c * c, GELU_3A, 1f) * GELU_C;
        return c * 2f * du * e * r * r + s + (z - z);
    }

    // exp on (-inf, 0]: Cody-Waite reduction by ln 2 and Cephes' expf polynomial (about 1 ulp),
    // in plain float32 arithmetic (no library exp, whose vector and scalar forms may differ in
    // the last bit and would make results depend on what the JIT has compiled)
    private static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    private static final float ROUND = 12582912f; // 1.5 * 2^23: adding it rounds to an integer
    private static final float EXP_MIN = -87f;
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f, P3 = 4.1665795894e-2f,
            P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /** {@code exp(x)} for {@code x <= 0} (0 below -87, NaN for NaN). */
    static FloatVector expNeg(FloatVector x) {
        FloatVector xc = x.max(EXP_MIN);
        FloatVector t = xc.fma(LOG2E, ROUND);
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), xc);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(P0, P1).fma(r, FloatVector.broadcast(S, P2)).fma(r, FloatVector.broadcast(S, P3))
                .fma(r, FloatVector.broadcast(S, P4)).fma(r, FloatVector.broadcast(S, P5));
        p = p.mul(r.mul(r)).add(r).add(1f);
        FloatVector scale = t.reinterpretAsInts().add(127 - Float.floatToRawIntBits(ROUND))
                .lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
        return p.mul(scale).blend(0f, x.compare(VectorOperators.LT, EXP_MIN));
    }

    /** One lane of {@link #expNeg(FloatVector)}: the same float32 operations. */
    static float expNeg(float x) {
        float xc = Math.max(x, EXP_MIN);
        float t = Math.fma(xc, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, xc);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(Math.fma(Math.fma(Math.fma(Math.fma(r, P0, P1), r, P2), r, P3), r, P4), r, P5);
        p = p * (r * r) + r + 1f;
        float scale = Float.intBitsToFloat((Float.floatToRawIntBits(t) + (127 - Float.floatToRawIntBits(ROUND))) << 23);
        return x < EXP_MIN ? 0f : p * scale;
    }

    static void reluBackward(float[] z, int zo, float[] dy, int yo, float[] dz, int xo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int k = 0;
        int upper = S.loopBound(n);
        for (; k < upper; k += S.length()) {
            VectorMask<Float> off = FloatVector.fromArray(S, z, zo + k).compare(VectorOperators.LE, 0f);
            FloatVector.fromArray(S, dy, yo + k).blend(zero, off).intoArray(dz, xo + k);
        }
        ActivationCpu.reluBackward(z, zo + k, dy, yo + k, dz, xo + k, n - k);
    }
}
