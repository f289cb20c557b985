package dev.salvo.device;

import java.util.Locale;

/**
 * Elementwise activations. {@link #apply(double)}, {@link #derivative(double)} and
 * {@link #backward(double, double)} are the specification (float64) that every provider's kernels
 * are tested against; the derivative is taken with respect to the pre-activation {@code z}.
 *
 * <p>Non-finite values follow PyTorch (1.13, checked in {@code ActivationNonFiniteTest}): NaN in
 * gives NaN out for every activation ({@code relu(NaN) = NaN}, not 0: a NaN weight must not be
 * hidden by the ReLU that follows it); {@code relu(-inf) = 0}, {@code gelu(-inf) = NaN}. The
 * backward pass is {@code dy * act'(z)} for every activation except ReLU, whose backward is
 * PyTorch's {@code threshold_backward}, a select: {@code z <= 0 ? 0 : dy}. So for ReLU a NaN
 * upstream gradient gives 0 where {@code z <= 0} (not {@code NaN * 0}), and a NaN {@code z}
 * passes {@code dy} through (its forward value is NaN already, so the loss is NaN and training
 * stops). Leaky ReLU's derivative at a NaN {@code z} is the slope, as in PyTorch.
 */
public enum Activation {
    /** {@code y = z}. */
    IDENTITY,
    /** {@code y = max(0, z)}, NaN for NaN; derivative 0 at {@code z = 0}, 1 at NaN (PyTorch's). */
    RELU,
    /** {@code y = z > 0 ? z : 0.01 z} (PyTorch's default slope). */
    LEAKY_RELU,
    /** {@code y = 1 / (1 + e^-z)}. */
    SIGMOID,
    /** {@code y = tanh z}. */
    TANH,
    /** GELU, tanh approximation: {@code 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))} (PyTorch {@code approximate='tanh'}). */
    GELU;

    public static final double LEAKY_SLOPE = 0.01;
    static final double GELU_C = Math.sqrt(2.0 / Math.PI);
    static final double GELU_A = 0.044715;

    public double apply(double z) {
        return switch (this) {
            case IDENTITY -> z;
            case RELU -> z <= 0 ? 0.0 : z; // NaN stays NaN
            case LEAKY_RELU -> z > 0 ? z : LEAKY_SLOPE * z;
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-z));
            case TANH -> Math.tanh(z);
            case GELU -> 0.5 * z * (1.0 + Math.tanh(GELU_C * (z + GELU_A * z * z * z)));
        };
    }

    public double derivative(double z) {
        return switch (this) {
            case IDENTITY -> 1.0;
            case RELU -> z <= 0 ? 0.0 : 1.0;
            case LEAKY_RELU -> z > 0 ? 1.0 : LEAKY_SLOPE;
            case SIGMOID -> {
                double s = 1.0 / (1.0 + Math.exp(-z));
                yield s * (1.0 - s);
            }
            case TANH -> {
                double t = Math.tanh(z);
                yield 1.0 - t * t;
            }
            case GELU -> {
                double t = Math.tanh(GELU_C * (z + GELU_A * z * z * z));
                yield 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * GELU_C * (1.0 + 3.0 * GELU_A * z * z);
            }
        };
    }

    /**
     * The backward pass {@code dz = dy * act'(z)}; for ReLU the select {@code z <= 0 ? 0 : dy}
     * (PyTorch's threshold_backward), which differs from the product only where {@code dy} is
     * not finite.
     */
    public double backward(double z, double dy) {
        if (this == RELU) {
            return z <= 0 ? 0.0 : dy;
        }
        return dy * derivative(z);
    }

    /** True where the derivative is discontinuous (gradient checks sample away from the kink). */
    public boolean hasKink() {
        return this == RELU || this == LEAKY_RELU;
    }

    /** Lower-case name as used on the command line ({@code leaky-relu}). */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** Parses a command-line name ({@code relu}, {@code leaky-relu}, {@code leakyrelu}, ...). */
    public static Activation parse(String s) {
        String k = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (k.equals("LEAKYRELU")) {
            k = "LEAKY_RELU";
        }
        if (k.equals("LINEAR") || k.equals("NONE")) {
            k = "IDENTITY";
        }
        for (Activation a : values()) {
            if (a.name().equals(k)) {
                return a;
            }
        }
        throw new IllegalArgumentException("unknown activation '" + s
                + "' (expected one of identity, relu, leaky-relu, sigmoid, tanh, gelu)");
    }
}
