package dev.salvo.nn;

import java.util.Locale;

/**
 * Which parameter tensors weight decay applies to. {@link #ALL} (the default): every one, biases
 * and normalization parameters included (PyTorch's optimizers given {@code model.parameters()}).
 * {@link #MATRICES}: only tensors of two or more dimensions (dense and attention weights,
 * embeddings, convolution kernels), none on biases or normalization parameters: nanoGPT's two
 * parameter groups.
 */
public enum DecayPolicy {
    ALL, MATRICES;

    /** True when a tensor of {@code shape} is decayed under this policy. */
    public boolean decays(int[] shape) {
        return this == ALL || shape.length >= 2;
    }

    /** The command-line and JSON name: {@code all} or {@code matrices}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** By name: {@code all} or {@code matrices}. */
    public static DecayPolicy parse(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "all" -> ALL;
            case "matrices" -> MATRICES;
            default -> throw new IllegalArgumentException("expected all or matrices, got '" + name + "'");
        };
    }
}
