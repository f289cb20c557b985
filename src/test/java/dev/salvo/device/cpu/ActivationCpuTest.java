package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.device.Activation;
import dev.salvo.device.Tolerance;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The branch-free ReLU bodies (scalar and, when the Vector API is loaded, vector) against the
 * specification select, bit for bit, on the values where they could differ: NaN (both signs,
 * with payloads), +-0, +-inf, subnormals, at lengths and offsets that cover vector tails.
 */
class ActivationCpuTest {

    private static final float[] SPECIAL = {
            Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001), Float.intBitsToFloat(0xff800001),
            -0f, 0f, -1f, 1f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE,
            Float.MAX_VALUE, -Float.MAX_VALUE, 3.5f, -2.25f,
    };

    private static float[] values(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.nextInt(3) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Bitwise equal, except that any NaN matches any NaN. */
    private static void same(String what, float expected, float got) {
        if (Float.isNaN(expected)) {
            assertEquals(true, Float.isNaN(got), what + ": expected NaN, got " + got);
        } else {
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(got), what + ": expected " + expected + ", got " + got);
        }
    }

    @Test
    void reluMatchesTheSelectBitForBit() {
        SplittableRandom r = new SplittableRandom(7);
        boolean[] paths = CpuGemm.vectorApiAvailable() ? new boolean[] {false, true} : new boolean[] {false};
        for (int n : new int[] {0, 1, 7, 15, 16, 17, 33, 64, 100, 1000}) {
            for (int off : new int[] {0, 3}) {
                float[] x = values(r, n + off);
                float[] dy = values(r, n + off);
                for (boolean simd : paths) {
                    float[] y = new float[n + 5];
                    float[] dz = new float[n + 5];
                    ActivationCpu.activate(Activation.RELU, x, off, y, 5, n, simd);
                    ActivationCpu.backward(Activation.RELU, x, off, dy, off, dz, 5, n, simd);
                    for (int k = 0; k < n; k++) {
                        float v = x[off + k];
                        String at = (simd ? "vector" : "scalar") + " n=" + n + " k=" + k + " x=" + v;
                        same("forward " + at, v <= 0 ? 0f : v, y[5 + k]);
                        same("backward " + at + " dy=" + dy[off + k], v <= 0 ? 0f : dy[off + k], dz[5 + k]);
                    }
                }
            }
        }
    }

    @Test
    void reluOfMinusZeroIsPlusZeroAndNaNPasses() {
        float[] x = {-0f, Float.NaN, -1f, 2f};
        float[] dy = {Float.NaN, 4f, Float.NaN, Float.NaN};
        for (boolean simd : new boolean[] {false, CpuGemm.vectorApiAvailable()}) {
            float[] y = new float[4];
            float[] dz = new float[4];
            ActivationCpu.activate(Activation.RELU, x, 0, y, 0, 4, simd);
            ActivationCpu.backward(Activation.RELU, x, 0, dy, 0, dz, 0, 4, simd);
            assertEquals(0, Float.floatToRawIntBits(y[0]));
            assertEquals(true, Float.isNaN(y[1]));
            assertEquals(0, Float.floatToRawIntBits(y[2]));
            assertEquals(2f, y[3]);
            assertEquals(0, Float.floatToRawIntBits(dz[0]));
            assertEquals(4f, dz[1]);
            assertEquals(0, Float.floatToRawIntBits(dz[2]));
            assertEquals(true, Float.isNaN(dz[3]));
        }
    }

    /** Float32 inputs: a fine sweep of [-12, 12], wide magnitudes of both signs, and the specials. */
    private static float[] geluInputs() {
        SplittableRandom r = new SplittableRandom(11);
        int sweep = 24_001;
        float[] x = new float[sweep + 4000 + SPECIAL.length];
        for (int i = 0; i < sweep; i++) {
            x[i] = (float) (-12 + 24.0 * i / (sweep - 1));
        }
        for (int i = 0; i < 4000; i++) {
            x[sweep + i] = (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, r.nextDouble() * 50 - 25));
        }
        System.arraycopy(SPECIAL, 0, x, sweep + 4000, SPECIAL.length);
        return x;
    }

    @Test
    void vectorGeluIsWithinTheElementwiseBoundOfTheSpecification() {
        Assumptions.assumeTrue(CpuGemm.vectorApiAvailable(), "the Vector API module is not loaded");
        float[] x = geluInputs();
        SplittableRandom r = new SplittableRandom(5);
        float[] dy = new float[x.length];
        for (int i = 0; i < dy.length; i++) {
            dy[i] = (float) (r.nextDouble() * 4 - 2);
        }
        float[] y = new float[x.length];
        float[] dz = new float[x.length];
        ActivationCpu.activate(Activation.GELU, x, 0, y, 0, x.length, true);
        ActivationCpu.backward(Activation.GELU, x, 0, dy, 0, dz, 0, x.length, true);
        for (int i = 0; i < x.length; i++) {
            double ref = Activation.GELU.apply(x[i]);
            double dref = Activation.GELU.backward(x[i], dy[i]);
            check("gelu(" + x[i] + ")", ref, y[i]);
            check("gelu backward(" + x[i] + ", " + dy[i] + ")", dref, dz[i]);
        }
    }

    private static void check(String what, double ref, float got) {
        if (Double.isNaN(ref) || Double.isInfinite(ref)) {
            assertEquals(ref, (double) got, what);
            return;
        }
        double bound = Tolerance.ATOL + Tolerance.RTOL * Math.abs(ref);
        assertEquals(true, Math.abs(got - ref) <= bound, what + ": " + got + " vs " + ref);
    }

    @Test
    void vectorGeluLanesAndScalarTailsGiveTheSameBits() {
        Assumptions.assumeTrue(CpuGemm.vectorApiAvailable(), "the Vector API module is not loaded");
        float[] x = geluInputs();
        SplittableRandom r = new SplittableRandom(9);
        float[] dy = values(r, x.length);
        float[] y = new float[x.length];
        float[] dz = new float[x.length];
        ActivationCpu.activate(Activation.GELU, x, 0, y, 0, x.length, true);
        ActivationCpu.backward(Activation.GELU, x, 0, dy, 0, dz, 0, x.length, true);
        // element by element (every one a scalar tail), and from odd offsets (lanes shifted)
        for (int off : new int[] {1, 3}) {
            float[] y1 = new float[x.length];
            float[] dz1 = new float[x.length];
            ActivationCpu.activate(Activation.GELU, x, off, y1, off, x.length - off, true);
            ActivationCpu.backward(Activation.GELU, x, off, dy, off, dz1, off, x.length - off, true);
            for (int i = off; i < x.length; i++) {
                same("forward x=" + x[i], y[i], y1[i]);
                same("backward x=" + x[i], dz[i], dz1[i]);
            }
        }
        for (int i = 0; i < x.length; i++) {
            same("scalar lane x=" + x[i], y[i], VectorActivation.gelu(x[i]));
            same("scalar lane' x=" + x[i], dz[i], dy[i] * VectorActivation.geluDerivative(x[i]));
        }
    }
}
