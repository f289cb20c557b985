package dev.salvo.nn;

/** What a {@link Model}'s device memory holds, by use ({@link Model#memoryBytes}). */
public enum ModelMemory {
    /** Parameters and non-trainable state (running statistics). */
    PARAMETERS,
    /** Parameter gradients. */
    GRADIENTS,
    /** Every layer's output for a batch of the capacity. */
    ACTIVATIONS,
    /** The gradients of layer outputs, shared where lifetimes allow. */
    ACTIVATION_GRADIENTS,
    /** What layers keep for backward or use as scratch (attention's scores, normalisation statistics...). */
    WORKSPACE,
    /** The batch: inputs, labels, per-position losses and predictions. */
    BATCH
}
