package dev.salvo.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.data.InputTransform;
import dev.salvo.device.Activation;
import dev.salvo.nn.Init;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkJson;
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

    /** The format written: a network graph ({@link NetworkJson}) with its parameters and state. */
    public static final String FORMAT = "salvo.net.v1";

    /** The format of the dense-only models written before graphs; still read (its architecture JSON is a subset). */
    public static final String MLP_FORMAT = "salvo.mlp.v1";

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
    public record Loaded(NetworkSpec spec, float[] parameters, float[] state, InputTransform transform, Map<String, String> metadata) {
        /** The model on {@code device} with these parameters and state, in eval mode, for batches of up to {@code rows}. */
        public Model open(dev.salvo.device.Device device, int rows) {
            Model m = new Model(device, spec, parameters, rows);
            try {
                m.loadState(state);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            return m;
        }
    }

    /** Writes the model atomically; {@code facts} are added to the metadata, then the checksum of the tensor data. */
    public static void save(Path file, NetworkSpec spec, float[] flat, InputTransform transform, Map<String, String> facts) {
        save(file, spec, flat, Model.initialState(ParamLayout.stateOf(spec)), transform, facts);
    }

    /** Writes the model with its state (batch-norm running statistics, {@link ParamLayout#stateOf}). */
    public static void save(Path file, NetworkSpec spec, float[] flat, float[] state, InputTransform transform,
                            Map<String, String> facts) {
        List<SafeTensors.Tensor> tensors = new ArrayList<>();
        addTensors(tensors, ParamLayout.of(spec), flat);
        addTensors(tensors, ParamLayout.stateOf(spec), state);
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

    private static void addTensors(List<SafeTensors.Tensor> out, ParamLayout layout, float[] flat) {
        for (ParamLayout.Tensor t : layout.tensors()) {
            out.add(new SafeTensors.Tensor(t.name(), t.shape(), Arrays.copyOfRange(flat, t.offset(), t.offset() + t.length())));
        }
    }

    static String architecture(NetworkSpec spec) {
        return NetworkJson.write(spec);
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
        if (!FORMAT.equals(meta.get("format")) && !MLP_FORMAT.equals(meta.get("format"))) {
            throw new SafeTensorsException(file, "__metadata__.format", (meta.containsKey("format")
                    ? "is \"" + abbreviate(meta.get("format")) + "\"" : "missing") + ", expected " + FORMAT + " (or " + MLP_FORMAT + ")"
                    + " (a model written by salvo train, or by hand as the README's Model files section shows)");
        }
        NetworkSpec spec = parseArchitecture(file, meta.get("architecture"));
        float[] flat = readTensors(file, c, ParamLayout.of(spec), "a model's parameters must be finite");
        float[] state = readTensors(file, c, ParamLayout.stateOf(spec), "a model's running statistics must be finite");
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
        return new Loaded(spec, flat, state, transform, meta);
    }

    /** The tensors of {@code layout} from the file, checked for presence, shape and finiteness. */
    private static float[] readTensors(Path file, SafeTensors.Contents c, ParamLayout layout, String why) {
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
            requireFinite(file, got, why);
            System.arraycopy(got.data(), 0, flat, t.offset(), t.length());
        }
        return flat;
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
        try {
            return NetworkJson.parse(json);
        } catch (NetworkSpec.Invalid e) {
            String f = e.field().equals("(json)") ? at : at + "." + e.field();
            throw new SafeTensorsException(file, f, e.reason());
        }
    }

    private static String abbreviate(String s) {
        return s == null ? "" : s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }
}
