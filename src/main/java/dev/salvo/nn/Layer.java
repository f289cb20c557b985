package dev.salvo.nn;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.Tensor;

/**
 * One layer of a network graph: its shapes, its parameters and non-trainable state, and its
 * forward and backward passes, written side by side in one file per layer
 * ({@code dev.salvo.nn.layer}). A layer value is immutable configuration; {@link #bind} makes its
 * {@link Runtime} on a device, and the runtime makes one {@link Pass} per batch row count.
 *
 * <p>Shapes are per sample, without the batch dimension: {@code (C,H,W)} for images (NCHW on the
 * device), {@code (F)} for features. Buffers hold a whole batch, row-major, batch first.
 */
public interface Layer {

    /** The type name in a network JSON file, e.g. {@code conv2d}. */
    String type();

    /** How many inputs the layer takes (2 for {@code add}). */
    default int arity() {
        return 1;
    }

    /**
     * The output shape for these input shapes.
     *
     * @throws IllegalArgumentException saying what shape was expected (the graph adds the layer's
     *     index, name and the shapes)
     */
    int[] outputShape(int[][] in);

    /** Declares parameters and state (in order: the parameter order of model files and the host RNG). */
    default void declare(int[][] in, Declarations d) {
    }

    /**
     * Full names of earlier layers' parameters this layer uses as its own (weight tying, e.g. a
     * language model's output projection on {@code wte.weight}); it declares no copy of them. Its
     * backward runs first (the graph's order) and overwrites their gradient; the owner adds its
     * own use ({@link Binding#gradShared}), so the gradient is the sum of both uses.
     */
    default java.util.List<String> ties() {
        return java.util.List.of();
    }

    /** The shape this layer needs of the tied parameter {@code name} for these input shapes. */
    default int[] tiedShape(String name, int[][] in) {
        throw new UnsupportedOperationException(type() + " ties to nothing");
    }

    /** True when the output is the input's memory under another shape (flatten, reshape): no copy, no op. */
    default boolean isView() {
        return false;
    }

    /** True when the layer is a softmax that a following cross-entropy loss takes over (it then gets logits). */
    default boolean fusesIntoCrossEntropy() {
        return false;
    }

    /** A short description for logs and checkpoints, e.g. {@code conv2d(32,3x3,p1)}. */
    String describe();

    /** The description inside an MLP's {@code 64-128(relu)-10} line (checkpoints store it). */
    default String compact() {
        return describe();
    }

    /** Writes this layer's fields (all but {@code type}, {@code name} and {@code inputs}) to a JSON object. */
    void toJson(ObjectNode n);

    /** Makes the layer's runtime on a device. */
    Runtime bind(Binding b);

    /** Where a layer declares its tensors. */
    interface Declarations {
        /** A trainable parameter, initialised by {@code init}. */
        void param(String name, int[] shape, ParamInit init);

        /** Non-trainable state (running statistics): saved with the model, never touched by the optimizer. */
        void state(String name, int[] shape, double initialValue);
    }

    /** How a parameter starts. */
    sealed interface ParamInit {
        /** Drawn from the host RNG: He normal or Xavier uniform by the network's {@link Init} and this activation. */
        record Weights(int fanIn, int fanOut, dev.salvo.device.Activation activation) implements ParamInit {
        }

        /** Drawn from the host RNG: normal with mean 0 and standard deviation {@code std} (GPT-2's 0.02). */
        record Normal(double std) implements ParamInit {
        }

        /** Every element equal to {@code value} (biases 0, batch-norm scales 1). */
        record Constant(double value) implements ParamInit {
        }
    }

    /**
     * What the graph hands a layer on a device: {@link Tensor} views sized for {@link #capacity()}
     * rows, batch first ({@code (N,C,H,W)} for images, {@code (N,F)} for features). The input values
     * (one per input), the output value, the gradient of the output ({@code dy}) and the gradients of
     * the inputs ({@code dx(i)}, null where nothing upstream needs one). A pass over fewer rows takes
     * {@link Tensor#rows} of them.
     */
    interface Binding {
        Device device();

        int capacity();

        /** Input {@code i}'s value, {@code (capacity, in shape...)}. */
        Tensor x(int i);

        /** The output value, {@code (capacity, out shape...)}. */
        Tensor y();

        /** The gradient of the output, shaped like {@link #y()}. */
        Tensor dy();

        /** The gradient of input {@code i}, shaped like {@link #x}; null when nothing upstream needs it. */
        Tensor dx(int i);

        /** Input {@code i}'s per-sample shape. */
        default int[] inShape(int i) {
            return x(i).sampleShape();
        }

        /** The output's per-sample shape. */
        default int[] outShape() {
            return y().sampleShape();
        }

        /** A parameter (the weights on the device) by its declared name, in its declared shape. */
        Tensor param(String name);

        /** The gradient of a parameter, shaped like it. */
        Tensor grad(String name);

        /** A parameter of another (earlier) layer by its full name, one this layer {@link #ties} to. */
        Tensor sharedParam(String fullName);

        /** The gradient of a {@link #sharedParam}. */
        Tensor sharedGrad(String fullName);

        /**
         * True when a later layer ties to this layer's parameter {@code name}: its backward runs
         * first and writes the gradient, so this layer must add to it rather than overwrite it.
         */
        boolean gradShared(String name);

        /** A state tensor by its declared name, in its declared shape. */
        Tensor state(String name);

        /** A float workspace of shape {@code dims}, owned by the model. */
        Tensor floats(int... dims);

        /**
         * A float scratch tensor of shape {@code dims} shared by every layer that asks for the same
         * {@code key}: for values that live only within one layer's forward or backward pass (an
         * attention's scores), never across passes.
         */
        Tensor scratch(String key, int... dims);

        /** An int workspace of shape {@code dims}, owned by the model. */
        Tensor ints(int... dims);

        /** The layer's random key (for dropout): from the run's seed and the layer's index. */
        long randomKey();

        /** The model's training state: mode and the global step. */
        Mode mode();
    }

    /**
     * Train or eval mode, the global step (the counter of dropout and random flips) and the global
     * index of the batch's first row (a data-parallel rank's shard starts there; 0 otherwise), read
     * at each pass.
     */
    final class Mode {
        private boolean training;
        private long step;
        private int firstRow;

        public boolean training() {
            return training;
        }

        public long step() {
            return step;
        }

        public int firstRow() {
            return firstRow;
        }

        public void set(boolean training, long step) {
            set(training, step, 0);
        }

        public void set(boolean training, long step, int firstRow) {
            this.training = training;
            this.step = step;
            this.firstRow = firstRow;
        }
    }

    /** A layer on a device. */
    interface Runtime {
        /** The calls of a pass over {@code rows} rows (made once per row count, then reused). */
        Pass pass(int rows);
    }

    /** The forward and backward pass over a fixed number of rows; allocates nothing. */
    interface Pass {
        void forward();

        /** Fills the parameter gradients and every non-null {@code dx}. */
        void backward();
    }
}
