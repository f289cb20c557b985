package dev.salvo.nn;

import dev.salvo.device.Activation;
import java.util.ArrayList;
import java.util.List;

/**
 * The architecture of a feed-forward network: input width, layers, loss, initialisation.
 * Build it with {@link #input(int)}:
 * <pre>{@code
 * NetworkSpec spec = NetworkSpec.input(64).dense(128, Activation.RELU).dense(10).build();
 * }</pre>
 */
public record NetworkSpec(int inputs, List<LayerSpec> layers, Loss loss, Init init) {

    public NetworkSpec {
        layers = List.copyOf(layers);
        if (inputs < 1) {
            throw new IllegalArgumentException("the network needs at least 1 input, got " + inputs);
        }
        if (layers.stream().noneMatch(l -> l instanceof LayerSpec.Dense)) {
            throw new IllegalArgumentException("the network needs at least one dense layer");
        }
    }

    public static Builder input(int inputs) {
        return new Builder(inputs);
    }

    /** Width of the network's output (the number of classes for classification). */
    public int outputs() {
        int w = inputs;
        for (int i = 0; i < layers.size(); i++) { // indexed: no iterator (called on the training path)
            if (layers.get(i) instanceof LayerSpec.Dense d) {
                w = d.units();
            }
        }
        return w;
    }

    /** Layer widths from input to output, e.g. {@code [64, 128, 10]}. */
    public List<Integer> widths() {
        List<Integer> w = new ArrayList<>();
        w.add(inputs);
        for (LayerSpec l : layers) {
            if (l instanceof LayerSpec.Dense d) {
                w.add(d.units());
            }
        }
        return w;
    }

    /** A one-line description, e.g. {@code 64-128(relu)-10 cross-entropy}. */
    public String describe() {
        StringBuilder sb = new StringBuilder().append(inputs);
        for (LayerSpec l : layers) {
            if (l instanceof LayerSpec.Dense d) {
                sb.append('-').append(d.units())
                        .append(d.activation() == Activation.IDENTITY ? "" : "(" + d.activation().cliName() + ")");
            } else {
                sb.append("-softmax");
            }
        }
        return sb.append(' ').append(loss.cliName()).toString();
    }

    /** Fluent builder; {@link #build()} defaults to softmax cross-entropy and {@link Init#AUTO}. */
    public static final class Builder {
        private final int inputs;
        private final List<LayerSpec> layers = new ArrayList<>();
        private Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        private Init init = Init.AUTO;

        private Builder(int inputs) {
            this.inputs = inputs;
        }

        public Builder dense(int units, Activation activation) {
            layers.add(new LayerSpec.Dense(units, activation));
            return this;
        }

        /** A linear dense layer (no activation), typically the logits layer. */
        public Builder dense(int units) {
            return dense(units, Activation.IDENTITY);
        }

        public Builder softmax() {
            layers.add(new LayerSpec.Softmax());
            return this;
        }

        public Builder loss(Loss l) {
            this.loss = l;
            return this;
        }

        public Builder init(Init i) {
            this.init = i;
            return this;
        }

        public NetworkSpec build() {
            return new NetworkSpec(inputs, layers, loss, init);
        }
    }
}
