package dev.salvo.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.data.InputTransform;
import dev.salvo.device.Activation;
import dev.salvo.nn.Init;
import dev.salvo.nn.LayerSpec;
import dev.salvo.nn.Loss;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Model files: safetensors ({@link SafeTensors}) that other tools open as they are.
 *
 * <p>Tensors (float32): {@code layers.<i>.weight} of shape (out, in), row-major, the layout of
 * PyTorch's {@code nn.Linear} ({@code y = x W^T + b}); {@code layers.<i>.bias} (out); and
 * {@code input.shift}, {@code input.scale} (features): the input transform
 * {@code x' = (x - shift) * scale} fitted on the training split. {@code <i>} is the layer's index
 * in the architecture. {@code __metadata__} holds {@code format} ({@code salvo.mlp.v1}),
 * {@code architecture} (JSON: inputs, layers with type/units/activation, loss, init),
 * {@code weight_layout}, {@link #CHECKSUM} and training facts (dataset, classes, device, epochs,
 * accuracy, seed, ...).
 *
 * <p>What {@link #load} needs, for files written elsewhere (PyTorch): {@code format} and
 * {@code architecture} in the metadata ({@code loss} defaults to cross-entropy and {@code init} to
 * auto), one weight and one bias per dense layer, and either both input tensors or neither (then
 * the transform is the identity). Other tensors and metadata are ignored. {@link #CHECKSUM} is
 * optional; when present it must match. Every parameter and input-transform value must be finite.
 * Every failure is a one-line {@link SafeTensorsException} naming the file and the field or tensor.
 */
public final class ModelFile {

    public static final String FORMAT = "salvo.mlp.v1";

    /**
     * Metadata key of the SHA-256 (lower-case hex) of the data section: every byte after the
     * header, that is the tensors' values. Written by {@link #save}; checked by {@link #load} when
     * present (files written by other tools have none and load without the check).
     */
    public static final String CHECKSUM = "salvo.sha256";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFile() {
    }

    /** A loaded model: its architecture, flat parameters in {@link ParamLayout} order, input transform and metadata. */
    public record Loaded(NetworkSpec spec, float[] parameters, InputTransform transform, Map<String, String> metadata) {
    }

    /** Writes the model atomically; {@code facts} are added to the metadata, then the checksum of the tensor data. */
    public static void save(Path file, NetworkSpec spec, float[] flat, InputTransform transform, Map<String, String> facts) {
        ParamLayout layout = ParamLayout.of(spec);
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        for (ParamLayout.Tensor t : layout.tensors()) {
            tensors.add(new SafeTensors.Tensor(t.name(), t.shape(), Arrays.copyOfRange(flat, t.offset(), t.offset() + t.length())));
        }
        tensors.add(new SafeTensors.Tensor("input.shift", new int[] {spec.inputs()}, transform.shift()));
        tensors.add(new SafeTensors.Tensor("input.scale", new int[] {spec.inputs()}, transform.scale()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("architecture", architecture(spec));
        meta.put("weight_layout", "layers.<i>.weight is (out, in) row-major and layers.<i>.bias is (out): y = x W^T + b, "
                + "as torch.nn.Linear; inputs are first mapped by x' = (x - input.shift) * input.scale");
        meta.putAll(facts);
        meta.put(CHECKSUM, SafeTensors.dataSha256(tensors));
        SafeTensors.write(file, meta, tensors);
    }

    static String architecture(NetworkSpec spec) {
        ObjectNode root = JSON.createObjectNode();
        root.put("inputs", spec.inputs());
        ArrayNode layers = root.putArray("layers");
        for (LayerSpec l : spec.layers()) {
            ObjectNode n = layers.addObject();
            if (l instanceof LayerSpec.Dense d) {
                n.put("type", "dense");
                n.put("units", d.units());
                n.put("activation", d.activation().cliName());
            } else {
                n.put("type", "softmax");
            }
        }
        root.put("loss", spec.loss().cliName());
        root.put("init", spec.init().name().toLowerCase(java.util.Locale.ROOT));
        return root.toString();
    }

    /**
     * Reads and validates a model file (see the class comment). {@code salvo eval} and
     * {@code salvo predict} load through here.
     *
     * @throws SafeTensorsException for a malformed or damaged file, a checksum that does not
     *     match, tensors that do not match the architecture, or a non-finite value
     */
    public static Loaded load(Path file) {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        verifyChecksum(file, meta.get(CHECKSUM), c.dataSha256());
        if (!FORMAT.equals(meta.get("format"))) {
            throw new SafeTensorsException(file, "__metadata__.format", (meta.containsKey("format")
                    ? "is \"" + abbreviate(meta.get("format")) + "\"" : "missing") + ", expected " + FORMAT
                    + " (a model written by salvo train, or by hand as the README's Model files section shows)");
        }
        NetworkSpec spec = parseArchitecture(file, meta.get("architecture"));
        ParamLayout layout = ParamLayout.of(spec);
        float[] flat = new float[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            SafeTensors.Tensor got = c.find(t.name());
            if (got == null) {
                throw new SafeTensorsException(file, "tensor " + t.name(), "missing (the architecture needs it, of shape "
                        + Arrays.toString(t.shape()) + ")");
            }
            if (!Arrays.equals(got.shape(), t.shape())) {
                throw new SafeTensorsException(file, "tensor " + t.name(), "shape " + Arrays.toString(got.shape())
                        + " does not match the architecture's " + Arrays.toString(t.shape()));
            }
            requireFinite(file, got, "a model's parameters must be finite");
            System.arraycopy(got.data(), 0, flat, t.offset(), t.length());
        }
        SafeTensors.Tensor shift = c.find("input.shift");
        SafeTensors.Tensor scale = c.find("input.scale");
        InputTransform transform = InputTransform.identity(spec.inputs());
        if (shift == null ^ scale == null) {
            String missing = shift == null ? "input.shift" : "input.scale";
            throw new SafeTensorsException(file, "tensor " + missing, "missing: input.shift and input.scale must both be present ("
                    + spec.inputs() + " values each) or both absent (no input transform)");
        }
        if (shift != null) {
            for (SafeTensors.Tensor t : new SafeTensors.Tensor[] {shift, scale}) {
                if (!Arrays.equals(t.shape(), new int[] {spec.inputs()})) {
                    throw new SafeTensorsException(file, "tensor " + t.name(), "shape " + Arrays.toString(t.shape())
                            + ", expected [" + spec.inputs() + "] (one value per input)");
                }
                requireFinite(file, t, "the input transform must be finite");
            }
            transform = new InputTransform(shift.data(), scale.data());
        }
        return new Loaded(spec, flat, transform, meta);
    }

    private static void verifyChecksum(Path file, String stored, String actual) {
        if (stored == null) {
            return; // written by another tool: allowed, see CHECKSUM
        }
        String where = "__metadata__." + CHECKSUM;
        if (!stored.matches("[0-9a-fA-F]{64}")) {
            throw new SafeTensorsException(file, where, "expected 64 hex digits (a SHA-256), got \"" + abbreviate(stored) + "\"");
        }
        if (!stored.equalsIgnoreCase(actual)) {
            throw new SafeTensorsException(file, where, "the tensor data does not match its checksum (the file says "
                    + stored.substring(0, 16) + "..., the data hashes to " + actual.substring(0, 16)
                    + "...): the file was damaged or changed after it was written (a tool that rewrites the tensors must drop "
                    + CHECKSUM + ")");
        }
    }

    /** Throws naming the tensor and the index (row and column for a matrix) of its first non-finite value. */
    private static void requireFinite(Path file, SafeTensors.Tensor t, String why) {
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            if (!Float.isFinite(d[i])) {
                int[] shape = t.shape();
                int[] at = new int[shape.length];
                for (int k = shape.length - 1, rest = i; k >= 0; k--) {
                    at[k] = rest % shape[k];
                    rest /= shape[k];
                }
                throw new SafeTensorsException(file, "tensor " + t.name(), "element " + Arrays.toString(at) + " is " + d[i]
                        + " (flat index " + i + "): " + why);
            }
        }
    }

    /** The architecture JSON of the metadata; every problem names its field, e.g. {@code __metadata__.architecture.layers[1].units}. */
    static NetworkSpec parseArchitecture(Path file, String json) {
        String at = "__metadata__.architecture";
        if (json == null) {
            throw new SafeTensorsException(file, at, "missing (the network's layers, as JSON: see the README's Model files section)");
        }
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new SafeTensorsException(file, at, "not valid JSON: " + abbreviate(e.getOriginalMessage()));
        }
        if (root == null || !root.isObject()) {
            throw new SafeTensorsException(file, at, "expected a JSON object with inputs and layers, got " + abbreviate(String.valueOf(root)));
        }
        NetworkSpec.Builder b = NetworkSpec.input(positiveInt(file, at + ".inputs", root.get("inputs")));
        JsonNode loss = root.get("loss");
        if (loss != null) {
            b.loss(parse(file, at + ".loss", loss, "cross-entropy or mse", Loss::parse));
        }
        JsonNode init = root.get("init");
        if (init != null) {
            b.init(parse(file, at + ".init", init, "he, xavier or auto", Init::parse));
        }
        JsonNode layers = root.get("layers");
        if (layers == null || !layers.isArray() || layers.isEmpty()) {
            throw new SafeTensorsException(file, at + ".layers", "expected a non-empty array of layers, got " + describe(layers));
        }
        for (int i = 0; i < layers.size(); i++) {
            String li = at + ".layers[" + i + "]";
            JsonNode n = layers.get(i);
            if (!n.isObject()) {
                throw new SafeTensorsException(file, li, "expected an object with type (dense or softmax), got " + describe(n));
            }
            JsonNode type = n.get("type");
            String t = type != null && type.isTextual() ? type.textValue() : null;
            if ("dense".equals(t)) {
                b.dense(positiveInt(file, li + ".units", n.get("units")),
                        parse(file, li + ".activation", n.get("activation"), "one of identity, relu, leaky-relu, sigmoid, tanh, gelu",
                                Activation::parse));
            } else if ("softmax".equals(t)) {
                b.softmax();
            } else {
                throw new SafeTensorsException(file, li + ".type", "expected dense or softmax, got " + describe(type));
            }
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, at + ".layers", e.getMessage());
        }
    }

    private static int positiveInt(Path file, String where, JsonNode v) {
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() < 1) {
            throw new SafeTensorsException(file, where, "expected a positive integer, got " + describe(v));
        }
        return v.intValue();
    }

    private static <T> T parse(Path file, String where, JsonNode v, String expected, java.util.function.Function<String, T> parser) {
        if (v == null || !v.isTextual()) {
            throw new SafeTensorsException(file, where, "expected " + expected + " (a string), got " + describe(v));
        }
        try {
            return parser.apply(v.textValue());
        } catch (IllegalArgumentException e) {
            throw new SafeTensorsException(file, where, e.getMessage());
        }
    }

    private static String describe(JsonNode v) {
        return v == null ? "nothing (the field is missing)" : abbreviate(v.toString());
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
