package dev.salvo.nn;

import dev.salvo.device.Activation;

/** One layer of a {@link NetworkSpec}. */
public sealed interface LayerSpec {

    /**
     * Fully connected layer {@code y = act(x W^T + b)}: {@code x (N,IN)}, {@code W (OUT,IN)}
     * (PyTorch's {@code nn.Linear} layout), {@code b (OUT)}, {@code y (N,OUT)}.
     */
    record Dense(int units, Activation activation) implements LayerSpec {
        public Dense {
            if (units < 1) {
                throw new IllegalArgumentException("a dense layer needs at least 1 unit, got " + units);
            }
        }
    }

    /**
     * Row-wise softmax {@code y (N,C) = softmax(x (N,C))}. As the last layer under
     * softmax cross-entropy it is fused into the loss (the loss takes logits).
     */
    record Softmax() implements LayerSpec {
    }
}
