package dev.salvo.nn;

import com.fasterxml.jackson.databind.JsonNode;
import dev.salvo.device.Activation;
import dev.salvo.nn.layer.Act;
import dev.salvo.nn.layer.Add;
import dev.salvo.nn.layer.AvgPool;
import dev.salvo.nn.layer.BatchNorm;
import dev.salvo.nn.layer.Conv2d;
import dev.salvo.nn.layer.CausalAttention;
import dev.salvo.nn.layer.Dense;
import dev.salvo.nn.layer.Embedding;
import dev.salvo.nn.layer.LayerNorm;
import dev.salvo.nn.layer.PositionEmbedding;
import dev.salvo.nn.layer.Dropout;
import dev.salvo.nn.layer.Flatten;
import dev.salvo.nn.layer.GlobalAvgPool;
import dev.salvo.nn.layer.MaxPool;
import dev.salvo.nn.layer.RandomFlip;
import dev.salvo.nn.layer.Reshape;
import dev.salvo.nn.layer.Softmax;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The layers by name: factories for the Java builder ({@code Layers.conv2d(32, 3).pad(1)}) and the
 * JSON form of each layer type ({@code {"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}}).
 */
public final class Layers {

    private Layers() {
    }

    public static Conv2d conv2d(int out, int kernel) {
        return new Conv2d(out, kernel, 1, 0, true);
    }

    public static BatchNorm batchNorm() {
        return new BatchNorm();
    }

    public static Act relu() {
        return new Act(Activation.RELU);
    }

    public static Act activation(Activation a) {
        return new Act(a);
    }

    public static MaxPool maxPool(int kernel) {
        return new MaxPool(kernel, kernel, 0);
    }

    public static AvgPool avgPool(int kernel) {
        return new AvgPool(kernel, kernel, 0);
    }

    public static GlobalAvgPool globalAvgPool() {
        return new GlobalAvgPool();
    }

    public static Dropout dropout(double p) {
        return new Dropout(p);
    }

    public static RandomFlip randomFlip() {
        return new RandomFlip();
    }

    public static Flatten flatten() {
        return new Flatten();
    }

    public static Reshape reshape(int... shape) {
        return new Reshape(shape);
    }

    public static Add add() {
        return new Add();
    }

    public static Dense dense(int units) {
        return new Dense(units, Activation.IDENTITY, true);
    }

    public static Dense dense(int units, Activation a) {
        return new Dense(units, a, true);
    }

    public static Softmax softmax() {
        return new Softmax();
    }

    /** Reads one field set of a layer's JSON object; every problem names {@code at.field}. */
    public static final class Fields {
        private final String at;
        private final JsonNode n;
        private final Set<String> read = new TreeSet<>(Set.of("type", "name", "inputs"));

        Fields(String at, JsonNode n) {
            this.at = at;
            this.n = n;
        }

        public int positiveInt(String f, Integer dflt) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null && dflt != null) {
                return dflt;
            }
            if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected a positive integer, got " + NetworkJson.describe(v));
            }
            return v.intValue();
        }

        public int nonNegativeInt(String f, int dflt) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null) {
                return dflt;
            }
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 0) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected an integer >= 0, got " + NetworkJson.describe(v));
            }
            return v.intValue();
        }

        public double number(String f, double dflt, double min, double maxExclusive) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null) {
                return dflt;
            }
            if (!v.isNumber() || !(v.doubleValue() >= min && v.doubleValue() < maxExclusive)) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected a number in [" + min + ", " + maxExclusive + "), got "
                        + NetworkJson.describe(v));
            }
            return v.doubleValue();
        }

        public boolean bool(String f, boolean dflt) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null) {
                return dflt;
            }
            if (!v.isBoolean()) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected true or false, got " + NetworkJson.describe(v));
            }
            return v.booleanValue();
        }

        public Activation activation(String f) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null) {
                return Activation.IDENTITY;
            }
            try {
                if (!v.isTextual()) {
                    throw new IllegalArgumentException("not a string");
                }
                return Activation.parse(v.textValue());
            } catch (IllegalArgumentException e) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected one of identity, relu, leaky-relu, sigmoid, tanh, gelu, got "
                        + NetworkJson.describe(v));
            }
        }

        /** An optional string field (null when absent). */
        public String text(String f) {
            read.add(f);
            JsonNode v = n.get(f);
            if (v == null) {
                return null;
            }
            if (!v.isTextual() || v.textValue().isBlank()) {
                throw new NetworkSpec.Invalid(at + "." + f, "expected a non-empty string, got " + NetworkJson.describe(v));
            }
            return v.textValue();
        }

        public int[] shape(String f) {
            read.add(f);
            return NetworkJson.shape(at + "." + f, n.get(f));
        }

        /** Refuses fields no reader asked for (a typo such as {@code kernal}). */
        void noOthers(String type) {
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!read.contains(f)) {
                    Set<String> known = new TreeSet<>(read);
                    known.removeAll(Set.of("type", "name", "inputs"));
                    throw new NetworkSpec.Invalid(at + "." + f, "unknown field for " + type + " (its fields: "
                            + (known.isEmpty() ? "none besides type, name and inputs" : String.join(", ", known)) + ")");
                }
            }
        }
    }

    /** A layer type's JSON reader. */
    interface Reader {
        Layer read(Fields f);
    }

    private static final Map<String, Reader> TYPES = new LinkedHashMap<>();

    static {
        TYPES.put("dense", f -> new Dense(f.positiveInt("units", null), f.activation("activation"), f.bool("bias", true),
                f.number("init_std", 0, 0, 1e6), f.text("tie")));

        TYPES.put("conv2d", f -> new Conv2d(f.positiveInt("out", null), f.positiveInt("kernel", null), f.positiveInt("stride", 1),
                f.nonNegativeInt("padding", 0), f.bool("bias", true)));
        TYPES.put("maxpool", f -> {
            int k = f.positiveInt("kernel", null);
            return new MaxPool(k, f.positiveInt("stride", k), f.nonNegativeInt("padding", 0));
        });
        TYPES.put("avgpool", f -> {
            int k = f.positiveInt("kernel", null);
            return new AvgPool(k, f.positiveInt("stride", k), f.nonNegativeInt("padding", 0));
        });
        TYPES.put("global-avgpool", f -> new GlobalAvgPool());
        TYPES.put("batchnorm", f -> new BatchNorm(f.number("eps", 1e-5, 1e-12, 1), f.number("momentum", 0.1, 0, 1.0000001)));
        TYPES.put("dropout", f -> new Dropout(f.number("p", 0.5, 0, 1)));
        TYPES.put("random-hflip", f -> new RandomFlip());
        TYPES.put("flatten", f -> new Flatten());
        TYPES.put("reshape", f -> new Reshape(f.shape("shape")));
        TYPES.put("add", f -> new Add());
        TYPES.put("softmax", f -> new Softmax());
        TYPES.put("embedding", f -> new Embedding(f.positiveInt("vocab", null), f.positiveInt("dim", null),
                f.number("init_std", 0.02, 1e-30, 1e6)));
        TYPES.put("position_embedding", f -> new PositionEmbedding(f.number("init_std", 0.02, 1e-30, 1e6)));
        TYPES.put("layernorm", f -> new LayerNorm(f.number("eps", 1e-5, 1e-12, 1)));
        TYPES.put("causal_attention", f -> new CausalAttention(f.positiveInt("heads", null)));
        for (Activation a : Activation.values()) {
            if (a != Activation.IDENTITY) {
                TYPES.put(a.cliName(), f -> new Act(a));
            }
        }
    }

    /** The layer types a JSON network may use. */
    public static Set<String> types() {
        return TYPES.keySet();
    }

    /** Reads the layer at {@code at} (its {@code type} already known to be a string). */
    static Layer fromJson(String at, String type, JsonNode n) {
        Reader r = TYPES.get(type);
        if (r == null) {
            throw new NetworkSpec.Invalid(at + ".type", "unknown layer type \"" + type + "\" (this version knows "
                    + String.join(", ", TYPES.keySet()) + ")");
        }
        Fields f = new Fields(at, n);
        Layer l;
        try {
            l = r.read(f);
        } catch (NetworkSpec.Invalid e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new NetworkSpec.Invalid(at, e.getMessage());
        }
        f.noOthers(type);
        return l;
    }
}
