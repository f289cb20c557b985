package dev.salvo.device.cpu;

import dev.salvo.device.Activation;

/**
 * The CPU activation loops: of the activation ops ({@link ElementwiseCpu}) and of the matmul
 * epilogue ({@link MatmulCpu}). ReLU is branch-free (random signs made the
 * {@code v <= 0 ? 0 : v} branch mispredict on every other element): the Vector API path
 * ({@link VectorActivation}, when {@code simd}) selects with a lane mask, the scalar path uses
 * {@link Math#max(float, float)} forward and an integer bit mask backward, both of which C2
 * vectorizes. Both keep PyTorch's rules exactly: {@code relu(NaN) = NaN}, {@code relu(-0) = +0};
 * backward is the select {@code z <= 0 ? 0 : dy} (a NaN {@code z} passes {@code dy}, {@code z <= 0}
 * gives +0 even when {@code dy} is NaN). GELU on the Vector API path is float32 through one
 * vector exponential ({@link VectorActivation#gelu}); the scalar path keeps the float64 specification.
 */
final class ActivationCpu {

    private ActivationCpu() {
    }

    /** {@code y[yo..yo+n) = act(x[xo..xo+n))}; the fast cases avoid float64 transcendental calls. */
    static void activate(Activation act, float[] x, int xo, float[] y, int yo, int n, boolean simd) {
        switch (act) {
            case IDENTITY -> {
                if (x != y || xo != yo) {
                    System.arraycopy(x, xo, y, yo, n);
                }
            }
            case RELU -> {
                if (simd) {
                    VectorActivation.relu(x, xo, y, yo, n);
                } else {
                    relu(x, xo, y, yo, n);
                }
            }
            case LEAKY_RELU -> {
                for (int k = 0; k < n; k++) {
                    float v = x[xo + k];
                    y[yo + k] = v > 0 ? v : (float) (Activation.LEAKY_SLOPE * v);
                }
            }
            case GELU -> {
                if (simd) {
                    VectorActivation.gelu(x, xo, y, yo, n);
                } else {
                    for (int k = 0; k < n; k++) {
                        y[yo + k] = (float) act.apply(x[xo + k]);
                    }
                }
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    y[yo + k] = (float) act.apply(x[xo + k]);
                }
            }
        }
    }

    /**
     * ReLU without a branch: {@code Math.max(v, 0)} is NaN for NaN and +0 for -0, exactly
     * {@code v <= 0 ? 0 : v}.
     */
    static void relu(float[] x, int xo, float[] y, int yo, int n) {
        for (int k = 0; k < n; k++) {
            y[yo + k] = Math.max(x[xo + k], 0f);
        }
    }

    /** {@code dz = act.backward(z, dy)} over {@code n} elements. */
    static void backward(Activation act, float[] z, int zo, float[] dy, int yo, float[] dz, int xo, int n,
                         boolean simd) {
        if (act == Activation.RELU) {
            if (simd) {
                VectorActivation.reluBackward(z, zo, dy, yo, dz, xo, n);
            } else {
                reluBackward(z, zo, dy, yo, dz, xo, n);
            }
            return;
        }
        if (act == Activation.GELU && simd) {
            VectorActivation.geluBackward(z, zo, dy, yo, dz, xo, n);
            return;
        }
        for (int k = 0; k < n; k++) {
            dz[xo + k] = (float) act.backward(z[zo + k], dy[yo + k]);
        }
    }

    /**
     * {@code dz = z <= 0 ? 0 : dy} as a bit mask on dy: all ones where {@code z > 0}
     * ({@code (-b & ~b) < 0} for the bits {@code b} of z: b positive, -0 excluded) or z is NaN
     * ({@code |b| > 0x7f800000}), else zero (+0 out).
     */
    static void reluBackward(float[] z, int zo, float[] dy, int yo, float[] dz, int xo, int n) {
        for (int k = 0; k < n; k++) {
            int b = Float.floatToRawIntBits(z[zo + k]);
            int mask = ((-b & ~b) | (0x7f800000 - (b & 0x7fffffff))) >> 31;
            dz[xo + k] = Float.intBitsToFloat(Float.floatToRawIntBits(dy[yo + k]) & mask);
        }
    }
}
