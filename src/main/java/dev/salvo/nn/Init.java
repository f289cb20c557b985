package dev.salvo.nn;

import dev.salvo.device.Activation;
import java.util.Locale;

/** Weight initialisation; biases always start at zero. */
public enum Init {
    /** He (Kaiming) normal: {@code N(0, 2 / fanIn)}; suits ReLU-like activations. */
    HE,
    /** Xavier (Glorot) uniform: {@code U(-a, a)}, {@code a = sqrt(6 / (fanIn + fanOut))}; suits tanh, sigmoid and linear layers. */
    XAVIER,
    /** He for ReLU, LeakyReLU and GELU layers, Xavier for the others. */
    AUTO;

    public Init resolve(Activation act) {
        if (this != AUTO) {
            return this;
        }
        return switch (act) {
            case RELU, LEAKY_RELU, GELU -> HE;
            case IDENTITY, SIGMOID, TANH -> XAVIER;
        };
    }

    public static Init parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "he", "kaiming" -> HE;
            case "xavier", "glorot" -> XAVIER;
            case "auto" -> AUTO;
            default -> throw new IllegalArgumentException("unknown init '" + s + "' (expected he, xavier or auto)");
        };
    }
}
