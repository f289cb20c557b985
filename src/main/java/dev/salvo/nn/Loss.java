package dev.salvo.nn;

import java.util.Locale;

/** Training losses. Both average over the rows of a batch. */
public enum Loss {
    /** Softmax followed by cross-entropy against integer class labels, fused (PyTorch {@code CrossEntropyLoss} on logits). */
    SOFTMAX_CROSS_ENTROPY,
    /** Mean squared error against one-hot targets: mean over classes of {@code (p - t)^2}, averaged over rows. */
    MSE;

    public static Loss parse(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "cross-entropy", "ce", "softmax-cross-entropy", "xent" -> SOFTMAX_CROSS_ENTROPY;
            case "mse" -> MSE;
            default -> throw new IllegalArgumentException("unknown loss '" + s + "' (expected cross-entropy or mse)");
        };
    }

    public String cliName() {
        return this == MSE ? "mse" : "cross-entropy";
    }
}
