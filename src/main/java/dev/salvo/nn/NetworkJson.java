package dev.salvo.nn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;

/**
 * The JSON form of a network ({@code salvo train --net FILE}, and the {@code architecture} of a model
 * file):
 * <pre>{@code
 * {"input": [1, 28, 28],
 *  "layers": [{"type": "conv2d", "out": 32, "kernel": 3, "padding": 1}, {"type": "relu"},
 *             {"type": "maxpool", "kernel": 2}, {"type": "flatten"}, {"type": "dense", "units": 10}],
 *  "loss": "cross-entropy", "init": "auto"}
 * }</pre>
 * {@code "inputs": 784} is short for {@code "input": [784]}. A layer takes the previous layer's
 * output unless it lists {@code "inputs"} (names of earlier layers, {@code "input"} for the
 * network input); {@code "name"} names it (default {@code layers.<i>}). Every problem is a
 * {@link NetworkSpec.Invalid} naming the field, e.g. {@code layers[3].kernel}.
 */
public final class NetworkJson {

    private static final ObjectMapper JSON = new ObjectMapper();

    private NetworkJson() {
    }

    /** Parses and builds (checking every shape). @throws NetworkSpec.Invalid naming the field */
    public static NetworkSpec parse(String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            String m = e.getOriginalMessage();
            throw new NetworkSpec.Invalid("(json)", "not valid JSON at line " + e.getLocation().getLineNr() + ": "
                    + (m.length() > 120 ? m.substring(0, 120) + "..." : m));
        }
        if (root == null || !root.isObject()) {
            throw new NetworkSpec.Invalid("(json)", "expected an object with input and layers, got " + describe(root));
        }
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!Set.of("input", "inputs", "layers", "loss", "init", "decay").contains(f)) {
                throw new NetworkSpec.Invalid(f, "unknown field (a network has input, layers, loss, init and decay)");
            }
        }
        int[] shape;
        if (root.has("input")) {
            shape = shape("input", root.get("input"));
        } else if (root.has("inputs")) {
            JsonNode v = root.get("inputs");
            if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
                throw new NetworkSpec.Invalid("inputs", "expected a positive integer, got " + describe(v));
            }
            shape = new int[] {v.intValue()};
        } else {
            throw new NetworkSpec.Invalid("input", "missing: the shape of one sample, e.g. [1, 28, 28] or [784]");
        }
        NetworkSpec.Builder b = NetworkSpec.input(shape);
        if (root.has("loss")) {
            b.loss(enumField("loss", root.get("loss"), "cross-entropy or mse", Loss::parse));
        }
        if (root.has("init")) {
            b.init(enumField("init", root.get("init"), "he, xavier or auto", Init::parse));
        }
        if (root.has("decay")) {
            b.decay(enumField("decay", root.get("decay"), "all or matrices", DecayPolicy::parse));
        }
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray() || layers.isEmpty()) {
            throw new NetworkSpec.Invalid("layers", "expected a non-empty array of layers, got " + describe(layers));
        }
        for (int i = 0; i < layers.size(); i++) {
            String at = "layers[" + i + "]";
            JsonNode n = layers.get(i);
            if (!n.isObject()) {
                throw new NetworkSpec.Invalid(at, "expected an object with a type, got " + describe(n));
            }
            JsonNode type = n.get("type");
            if (type == null || !type.isTextual()) {
                throw new NetworkSpec.Invalid(at + ".type", "expected one of " + String.join(", ", Layers.types()) + ", got "
                        + describe(type));
            }
            Layer l = Layers.fromJson(at, type.textValue(), n);
            String name = null;
            if (n.has("name")) {
                if (!n.get("name").isTextual() || n.get("name").textValue().isBlank()) {
                    throw new NetworkSpec.Invalid(at + ".name", "expected a non-empty string, got " + describe(n.get("name")));
                }
                name = n.get("name").textValue();
            }
            String[] from = new String[0];
            if (n.has("inputs")) {
                JsonNode in = n.get("inputs");
                if (!in.isArray() || in.isEmpty()) {
                    throw new NetworkSpec.Invalid(at + ".inputs", "expected an array of layer names, got " + describe(in));
                }
                from = new String[in.size()];
                for (int k = 0; k < in.size(); k++) {
                    if (!in.get(k).isTextual()) {
                        throw new NetworkSpec.Invalid(at + ".inputs[" + k + "]", "expected a layer name, got " + describe(in.get(k)));
                    }
                    from[k] = in.get(k).textValue();
                }
            }
            b.add(name, l, from);
        }
        return b.build();
    }

    /** The JSON text of {@code spec}; {@link #parse} of it builds an equal network. */
    public static String write(NetworkSpec spec) {
        ObjectNode root = JSON.createObjectNode();
        int[] shape = spec.inputShape();
        if (shape.length == 1) {
            root.put("inputs", shape[0]);
        } else {
            ArrayNode a = root.putArray("input");
            for (int d : shape) {
                a.add(d);
            }
        }
        ArrayNode layers = root.putArray("layers");
        for (NetworkSpec.Vertex v : spec.vertices()) {
            ObjectNode n = layers.addObject();
            n.put("type", v.layer().type());
            if (!v.name().equals(NetworkSpec.defaultName(v.index()))) {
                n.put("name", v.name());
            }
            boolean chained = v.inputs().length == 1 && v.inputs()[0] == v.index() - 1;
            if (!chained) {
                ArrayNode in = n.putArray("inputs");
                for (int i : v.inputs()) {
                    in.add(i == NetworkSpec.INPUT ? "input" : spec.vertices().get(i).name());
                }
            }
            v.layer().toJson(n);
        }
        root.put("loss", spec.loss().cliName());
        root.put("init", spec.init().name().toLowerCase(Locale.ROOT));
        if (spec.decay() != DecayPolicy.ALL) {
            root.put("decay", spec.decay().cliName());
        }
        return root.toString();
    }

    static int[] shape(String at, JsonNode v) {
        if (v == null || !v.isArray() || v.isEmpty() || v.size() > 3) {
            throw new NetworkSpec.Invalid(at, "expected a shape of 1 to 3 positive integers, e.g. [1, 28, 28], got " + describe(v));
        }
        int[] s = new int[v.size()];
        for (int k = 0; k < s.length; k++) {
            JsonNode d = v.get(k);
            if (!d.isIntegralNumber() || !d.canConvertToInt() || d.intValue() < 1) {
                throw new NetworkSpec.Invalid(at + "[" + k + "]", "expected a positive integer, got " + describe(d));
            }
            s[k] = d.intValue();
        }
        return s;
    }

    private static <T> T enumField(String at, JsonNode v, String expected, java.util.function.Function<String, T> parser) {
        if (v == null || !v.isTextual()) {
            throw new NetworkSpec.Invalid(at, "expected " + expected + " (a string), got " + describe(v));
        }
        try {
            return parser.apply(v.textValue());
        } catch (IllegalArgumentException e) {
            throw new NetworkSpec.Invalid(at, e.getMessage());
        }
    }

    /** A JSON value in an error message, shortened. */
    static String describe(JsonNode v) {
        if (v == null || v.isMissingNode()) {
            return "nothing";
        }
        String s = v.toString();
        return s.length() > 60 ? s.substring(0, 57) + "..." : s;
    }
}
