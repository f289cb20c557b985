package dev.salvo.nn;

import dev.salvo.device.Activation;
import dev.salvo.nn.layer.Dense;
import dev.salvo.nn.layer.Softmax;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * The architecture of a network: an input shape, a static graph of {@link Layer layers} in
 * topological order (each takes the previous layer's output unless it names its inputs), a loss
 * and an initialisation rule. Shapes are checked when it is built: a layer that does not fit its
 * input is refused naming the layer by index and name, with both shapes.
 * <pre>{@code
 * NetworkSpec mlp = NetworkSpec.input(64).dense(128, Activation.RELU).dense(10).build();
 * NetworkSpec cnn = NetworkSpec.of(new int[] {1, 28, 28}, Layers.conv2d(32, 3).pad(1), Layers.batchNorm(),
 *         Layers.relu(), Layers.maxPool(2), Layers.flatten(), Layers.dense(10));
 * }</pre>
 */
public final class NetworkSpec {

    /** Index of the network input among a vertex's inputs. */
    public static final int INPUT = -1;

    /** One layer in the graph: its index, name, inputs (vertex indices, {@link #INPUT}) and output shape. */
    public record Vertex(int index, String name, Layer layer, int[] inputs, int[] shape) {
        /** {@code layers[3] (conv2d "c2")}: how errors name a layer. */
        public String label() {
            return "layers[" + index + "] (" + layer.type() + (name.equals(defaultName(index)) ? "" : " \"" + name + "\"") + ")";
        }

        /** Elements of the output per sample. */
        public int size() {
            return NetworkSpec.size(shape);
        }
    }

    /** A network that does not fit together; {@code field} names the place, e.g. {@code layers[3].kernel}. */
    public static final class Invalid extends IllegalArgumentException {
        private final String field;
        private final String reason;

        /** {@code field: reason}. */
        public Invalid(String field, String reason) {
            this(field, reason, field + ": " + reason);
        }

        private Invalid(String field, String reason, String message) {
            super(message);
            this.field = field;
            this.reason = reason;
        }

        /** A layer that does not fit its input: the message is {@code sentence}, which names the layer itself. */
        static Invalid misfit(String field, String sentence) {
            return new Invalid(field, sentence, sentence);
        }

        public String field() {
            return field;
        }

        /** The message without the field. */
        public String reason() {
            return reason;
        }
    }

    private final int[] inputShape;
    private final List<Vertex> vertices;
    private final Loss loss;
    private final Init init;
    private final DecayPolicy decay;

    private NetworkSpec(int[] inputShape, List<Vertex> vertices, Loss loss, Init init, DecayPolicy decay) {
        this.inputShape = inputShape;
        this.vertices = List.copyOf(vertices);
        this.loss = loss;
        this.init = init;
        this.decay = decay;
    }

    public static String defaultName(int index) {
        return "layers." + index;
    }

    /** A builder for a network whose samples have {@code shape}, e.g. {@code (784)} or {@code (1,28,28)}. */
    public static Builder input(int... shape) {
        return new Builder(shape);
    }

    /** A chain of layers on an input of {@code shape}, softmax cross-entropy, automatic init. */
    public static NetworkSpec of(int[] shape, Layer... layers) {
        Builder b = input(shape);
        for (Layer l : layers) {
            b.add(l);
        }
        return b.build();
    }

    public int[] inputShape() {
        return inputShape.clone();
    }

    /** Elements of one input sample (the width of a data row). */
    public int inputs() {
        return size(inputShape);
    }

    /** Width of the network's output (the number of classes for classification). */
    public int outputs() {
        return vertices.get(vertices.size() - 1).size();
    }

    /**
     * Positions per sample that each get a label: {@code T} for a cross-entropy network whose
     * output is {@code (T, V)} (a language model: a class distribution at every position), else 1.
     */
    public int positions() {
        int[] out = vertices.get(vertices.size() - 1).shape();
        return loss == Loss.SOFTMAX_CROSS_ENTROPY && out.length == 2 ? out[0] : 1;
    }

    /** Classes per position: the last axis of a {@code (T, V)} output, else {@link #outputs()}. */
    public int classes() {
        return outputs() / positions();
    }

    public List<Vertex> vertices() {
        return vertices;
    }

    /** The layers in graph order. */
    public List<Layer> layers() {
        List<Layer> l = new ArrayList<>();
        for (Vertex v : vertices) {
            l.add(v.layer());
        }
        return l;
    }

    public Loss loss() {
        return loss;
    }

    /** Which parameters weight decay applies to unless the trainer is told otherwise; {@link DecayPolicy#ALL} by default. */
    public DecayPolicy decay() {
        return decay;
    }

    public Init init() {
        return init;
    }

    /** True for a chain of dense (and softmax) layers on a flat input: what {@code --layers} writes. */
    public boolean isMlp() {
        if (inputShape.length != 1) {
            return false;
        }
        for (Vertex v : vertices) {
            if (!(v.layer().type().equals("dense") || v.layer().type().equals("softmax")) || v.inputs()[0] != v.index() - 1
                    || !v.name().equals(defaultName(v.index()))) {
                return false;
            }
        }
        return true;
    }

    /** Layer widths from input to output of an MLP, e.g. {@code [64, 128, 10]}; every vertex's size otherwise. */
    public List<Integer> widths() {
        List<Integer> w = new ArrayList<>();
        w.add(inputs());
        for (Vertex v : vertices) {
            if (!v.layer().type().equals("softmax")) {
                w.add(v.size());
            }
        }
        return w;
    }

    /**
     * A one-line description: for an MLP {@code 64-128(relu)-10 cross-entropy} (as checkpoints have
     * always stored it), else the input shape and each layer, e.g.
     * {@code 1x28x28 conv2d(32,3x3,p1) relu ... dense(10) cross-entropy}.
     */
    public String describe() {
        if (isMlp()) {
            StringBuilder sb = new StringBuilder().append(inputs());
            for (Vertex v : vertices) {
                sb.append('-').append(v.layer().compact());
            }
            return sb.append(' ').append(loss.cliName()).toString();
        }
        StringJoiner j = new StringJoiner(" ");
        j.add(shapeText(inputShape, "x"));
        for (Vertex v : vertices) {
            String d = v.layer().describe();
            boolean chained = v.inputs().length == 1 && v.inputs()[0] == v.index() - 1;
            if (!chained) {
                StringJoiner from = new StringJoiner(",", "<", ">");
                for (int i : v.inputs()) {
                    from.add(i == INPUT ? "input" : vertices.get(i).name());
                }
                d += from;
            }
            if (!v.name().equals(defaultName(v.index()))) {
                d = v.name() + "=" + d;
            }
            j.add(d);
        }
        return j.add(loss.cliName()).toString();
    }

    /** Elements of a shape. */
    public static int size(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("shape " + shapeText(shape, ",") + " has more than 2^31 elements");
        }
        return (int) n;
    }

    /** {@code (32,28,28)} with separator "," or {@code 32x28x28} with "x". */
    public static String shapeText(int[] shape, String sep) {
        StringJoiner j = sep.equals("x") ? new StringJoiner("x") : new StringJoiner(",", "(", ")");
        for (int d : shape) {
            j.add(Integer.toString(d));
        }
        return j.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NetworkSpec n && n.describe().equals(describe()) && n.init == init;
    }

    @Override
    public int hashCode() {
        return describe().hashCode();
    }

    @Override
    public String toString() {
        return describe();
    }

    /** Every tie names a parameter of an earlier layer, of the shape the tying layer needs. */
    private static void checkTies(NetworkSpec spec) {
        ParamLayout params = ParamLayout.of(spec);
        for (Vertex v : spec.vertices) {
            for (String name : v.layer().ties()) {
                ParamLayout.Tensor t = params.tensors().stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
                String at = "layers[" + v.index() + "].tie";
                if (t == null) {
                    throw new Invalid(at, v.label() + ": no parameter named \"" + name + "\" (a tie names an earlier layer's"
                            + " parameter, e.g. wte.weight)");
                }
                Vertex owner = spec.vertices.stream().filter(u -> name.startsWith(u.name() + ".")).findFirst().orElseThrow();
                if (owner.index() >= v.index()) {
                    throw new Invalid(at, v.label() + ": \"" + name + "\" belongs to a later layer; a tie must name an earlier one");
                }
                int[][] in = new int[v.inputs().length][];
                for (int k = 0; k < in.length; k++) {
                    in[k] = v.inputs()[k] == INPUT ? spec.inputShape() : spec.vertices.get(v.inputs()[k]).shape();
                }
                int[] want = v.layer().tiedShape(name, in);
                if (!Arrays.equals(want, t.shape())) {
                    throw new Invalid(at, v.label() + " needs \"" + name + "\" of shape " + shapeText(want, ",") + ", it has "
                            + shapeText(t.shape(), ","));
                }
            }
        }
    }

    /** Fluent builder; {@link #build()} defaults to softmax cross-entropy and {@link Init#AUTO}. */
    public static final class Builder {
        private final int[] shape;
        private final List<Layer> layers = new ArrayList<>();
        private final List<String> names = new ArrayList<>();
        private final List<String[]> inputs = new ArrayList<>();
        private Loss loss = Loss.SOFTMAX_CROSS_ENTROPY;
        private Init init = Init.AUTO;
        private DecayPolicy decay = DecayPolicy.ALL;

        private Builder(int[] shape) {
            this.shape = shape.clone();
        }

        /** Adds a layer that takes the previous layer's output. */
        public Builder add(Layer l) {
            return add(null, l);
        }

        /**
         * Adds a layer named {@code name} (null: {@code layers.<i>}) that takes the outputs of the
         * named layers ({@code "input"} is the network input); none named: the previous layer's.
         */
        public Builder add(String name, Layer l, String... from) {
            layers.add(l);
            names.add(name);
            inputs.add(from);
            return this;
        }

        public Builder dense(int units, Activation activation) {
            return add(new Dense(units, activation, true));
        }

        /** A linear dense layer (no activation), typically the logits layer. */
        public Builder dense(int units) {
            return dense(units, Activation.IDENTITY);
        }

        public Builder softmax() {
            return add(new Softmax());
        }

        public Builder loss(Loss l) {
            this.loss = l;
            return this;
        }

        public Builder init(Init i) {
            this.init = i;
            return this;
        }

        /** Which parameters weight decay applies to (default {@link DecayPolicy#ALL}). */
        public Builder decay(DecayPolicy d) {
            this.decay = java.util.Objects.requireNonNull(d, "decay");
            return this;
        }

        /** Checks names, inputs and shapes, layer by layer. @throws Invalid naming the layer */
        public NetworkSpec build() {
            if (shape.length == 0) {
                throw new Invalid("input", "expected a shape such as [784] or [1, 28, 28], got []");
            }
            for (int d : shape) {
                if (d < 1) {
                    throw new Invalid("input", "every dimension must be at least 1, got " + Arrays.toString(shape));
                }
            }
            if (layers.isEmpty()) {
                throw new Invalid("layers", "the network needs at least one layer");
            }
            Map<String, Integer> byName = new HashMap<>();
            byName.put("input", INPUT);
            List<Vertex> vs = new ArrayList<>();
            for (int i = 0; i < layers.size(); i++) {
                Layer l = layers.get(i);
                String name = names.get(i) == null ? defaultName(i) : names.get(i);
                String at = "layers[" + i + "]";
                String label = at + " (" + l.type() + (names.get(i) == null ? "" : " \"" + name + "\"") + ")";
                if (name.isBlank() || byName.containsKey(name)) {
                    throw new Invalid(at + ".name", "\"" + name + "\" is " + (name.isBlank() ? "empty" : "already taken"));
                }
                String[] from = inputs.get(i);
                int[] in;
                if (from.length == 0) {
                    in = new int[l.arity()];
                    Arrays.fill(in, i - 1);
                    if (l.arity() != 1) {
                        throw new Invalid(at + ".inputs", label + " takes " + l.arity() + " inputs: name them");
                    }
                } else {
                    if (from.length != l.arity()) {
                        throw new Invalid(at + ".inputs", label + " takes " + l.arity() + " input(s), got " + from.length);
                    }
                    in = new int[from.length];
                    for (int k = 0; k < from.length; k++) {
                        Integer idx = byName.get(from[k]);
                        if (idx == null) {
                            throw new Invalid(at + ".inputs", label + ": no earlier layer named \"" + from[k] + "\"");
                        }
                        in[k] = idx;
                    }
                }
                int[][] shapes = new int[in.length][];
                for (int k = 0; k < in.length; k++) {
                    shapes[k] = in[k] == INPUT ? shape.clone() : vs.get(in[k]).shape().clone();
                }
                int[] out;
                try {
                    out = l.outputShape(shapes);
                    for (int d : out) {
                        if (d < 1) {
                            throw new IllegalArgumentException("its output " + shapeText(out, ",") + " would be empty");
                        }
                    }
                } catch (Invalid e) {
                    throw e;
                } catch (IllegalArgumentException e) {
                    StringJoiner got = new StringJoiner(" and ");
                    for (int[] s : shapes) {
                        got.add(shapeText(s, ","));
                    }
                    throw Invalid.misfit(at, label + " does not fit its input " + got + ": " + e.getMessage());
                }
                byName.put(name, i);
                vs.add(new Vertex(i, name, l, in, out));
            }
            NetworkSpec built = new NetworkSpec(shape, vs, loss, init, decay);
            if (ParamLayout.of(built).tensors().isEmpty()) {
                throw new Invalid("layers", "the network has no parameters to train: add a dense or conv2d layer");
            }
            int[] last = vs.get(vs.size() - 1).shape();
            boolean sequence = last.length == 2 && loss == Loss.SOFTMAX_CROSS_ENTROPY;
            if (last.length != 1 && !sequence) {
                throw new Invalid("layers[" + (vs.size() - 1) + "]", "the network's output must be features (F) for the loss"
                        + " (or (T, V) for cross-entropy at every position), got " + shapeText(last, ",") + ": end with flatten and dense");
            }
            checkTies(built);
            return built;
        }
    }
}
