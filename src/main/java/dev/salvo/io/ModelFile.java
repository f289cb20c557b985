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
 * {@code weight_layout}, and training facts (dataset, classes, device, epochs, accuracy, seed, ...).
 */
public final class ModelFile {

    public static final String FORMAT = "salvo.mlp.v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFile() {
    }

    /** A loaded model: its architecture, flat parameters in {@link ParamLayout} order, input transform and metadata. */
    public record Loaded(NetworkSpec spec, float[] parameters, InputTransform transform, Map<String, String> metadata) {
    }

    /** Writes the model atomically; {@code facts} are added to the metadata. */
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
     * Reads a model file.
     *
     * @throws SafeTensorsException for a malformed file, or when tensors do not match the architecture
     */
    public static Loaded load(Path file) {
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<String, String> meta = c.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new SafeTensorsException(file, "__metadata__", "format is " + meta.get("format") + ", expected " + FORMAT
                    + " (a model written by salvo train --save)");
        }
        NetworkSpec spec;
        try {
            spec = parseArchitecture(meta.get("architecture"));
        } catch (JsonProcessingException | RuntimeException e) {
            throw new SafeTensorsException(file, "__metadata__.architecture", "unreadable architecture: " + e.getMessage());
        }
        ParamLayout layout = ParamLayout.of(spec);
        float[] flat = new float[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            SafeTensors.Tensor got = c.get(t.name());
            if (got == null) {
                throw new SafeTensorsException(file, "tensor " + t.name(), "missing (the architecture needs it)");
            }
            if (!Arrays.equals(got.shape(), t.shape())) {
                throw new SafeTensorsException(file, "tensor " + t.name(), "shape " + Arrays.toString(got.shape())
                        + " does not match the architecture's " + Arrays.toString(t.shape()));
            }
            System.arraycopy(got.data(), 0, flat, t.offset(), t.length());
        }
        SafeTensors.Tensor shift = c.get("input.shift");
        SafeTensors.Tensor scale = c.get("input.scale");
        InputTransform transform = InputTransform.identity(spec.inputs());
        if (shift != null || scale != null) {
            for (SafeTensors.Tensor t : new SafeTensors.Tensor[] {shift, scale}) {
                if (t == null || t.data().length != spec.inputs()) {
                    throw new SafeTensorsException(file, "tensor input.shift/input.scale", "both must be present with "
                            + spec.inputs() + " values");
                }
            }
            transform = new InputTransform(shift.data(), scale.data());
        }
        return new Loaded(spec, flat, transform, meta);
    }

    static NetworkSpec parseArchitecture(String json) throws JsonProcessingException {
        if (json == null) {
            throw new IllegalArgumentException("no architecture in the metadata");
        }
        JsonNode root = JSON.readTree(json);
        NetworkSpec.Builder b = NetworkSpec.input(root.get("inputs").asInt())
                .loss(Loss.parse(root.get("loss").asText())).init(Init.parse(root.get("init").asText()));
        for (JsonNode n : root.get("layers")) {
            switch (n.get("type").asText()) {
                case "dense" -> b.dense(n.get("units").asInt(), Activation.parse(n.get("activation").asText()));
                case "softmax" -> b.softmax();
                default -> throw new IllegalArgumentException("unknown layer type " + n.get("type"));
            }
        }
        return b.build();
    }
}
