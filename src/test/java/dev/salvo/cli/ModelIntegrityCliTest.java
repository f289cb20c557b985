package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.InputTransform;
import dev.salvo.device.Activation;
import dev.salvo.io.ModelFile;
import dev.salvo.io.SafeTensors;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A damaged or malformed model file is exit code 2 with one line naming the file and what is wrong,
 * in {@code salvo eval} and {@code salvo predict} alike (both load through {@link ModelFile#load}).
 */
class ModelIntegrityCliTest {

    static final NetworkSpec NET = NetworkSpec.input(64).dense(16, Activation.RELU).dense(10).build();

    @TempDir
    Path dir;

    private Path input() throws Exception {
        return CliTest.featureRows(dir.resolve("rows.csv"), 2);
    }

    private Path model() {
        Path f = dir.resolve("model.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 1), InputTransform.identity(64), Map.of("dataset", "digits"));
        return f;
    }

    /** eval and predict: exit 2, one line, naming the file and each of {@code expected}. */
    private void refused(Path model, String... expected) throws Exception {
        for (String[] args : List.of(new String[] {"eval", "--model", model.toString(), "--data", "digits", "--device", "cpu"},
                new String[] {"predict", "--model", model.toString(), "--input", input().toString(), "--device", "cpu"})) {
            CliTest.Result r = CliTest.run(args);
            String err = r.err().strip();
            assertEquals(2, r.code(), args[0] + ": " + r.out() + err);
            assertEquals(1, err.lines().count(), args[0] + ", one line: " + err);
            assertTrue(err.startsWith("salvo " + args[0] + ": " + model + ": "), err);
            for (String e : expected) {
                assertTrue(err.contains(e), args[0] + " should say " + e + ": " + err);
            }
            assertTrue(r.out().isEmpty(), "nothing evaluated or predicted: " + r.out());
        }
    }

    @Test
    void aGoodModelEvaluatesAndPredicts() throws Exception {
        Path f = model();
        assertEquals(0, CliTest.run("eval", "--model", f.toString(), "--device", "cpu").code());
        assertEquals(0, CliTest.run("predict", "--model", f.toString(), "--input", input().toString(), "--device", "cpu").code());
    }

    @Test
    void aFlippedByteIsRefusedNotEvaluated() throws Exception {
        Path f = model();
        byte[] b = Files.readAllBytes(f);
        b[b.length - 300] ^= 0x10;
        Files.write(f, b);
        refused(f, "__metadata__.salvo.sha256", "damaged");
    }

    @Test
    void aNaNWeightIsRefusedNamingTheTensorAndIndex() throws Exception {
        Path f = model();
        // as PyTorch would write it: no checksum
        rewrite(f, "layers.1.weight", 3 * 16 + 7, Float.NaN);
        refused(f, "tensor layers.1.weight", "[3, 7]", "NaN");
    }

    /** The model file without tensor {@code name} (and without a checksum, as another tool would write it). */
    private Path modelWithout(String name) throws Exception {
        Path f = model();
        SafeTensors.Contents c = SafeTensors.read(f);
        List<SafeTensors.Tensor> ts = new ArrayList<>(c.tensors());
        ts.removeIf(t -> t.name().equals(name));
        SafeTensors.write(f, withoutChecksum(c), ts);
        return f;
    }

    @Test
    void onlyOneInputTensorNamesBoth() throws Exception {
        refused(modelWithout("input.scale"), "input.scale", "both");
    }

    @Test
    void aMissingLayerTensorNamesTheFile() throws Exception {
        refused(modelWithout("layers.0.weight"), "tensor layers.0.weight", "missing");
    }

    @Test
    void malformedArchitectureNamesTheField() throws Exception {
        Path f = model();
        SafeTensors.Contents c = SafeTensors.read(f);
        Map<String, String> m = withoutChecksum(c);
        m.put("architecture", m.get("architecture").replace("\"units\":10,", ""));
        SafeTensors.write(f, m, c.tensors());
        refused(f, "__metadata__.architecture.layers[1].units: expected a positive integer");
    }

    private static Map<String, String> withoutChecksum(SafeTensors.Contents c) {
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        m.remove(ModelFile.CHECKSUM);
        return m;
    }

    private static void rewrite(Path f, String tensor, int index, float value) {
        SafeTensors.Contents c = SafeTensors.read(f);
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (SafeTensors.Tensor t : c.tensors()) {
            float[] d = t.data().clone();
            if (t.name().equals(tensor)) {
                d[index] = value;
            }
            ts.add(new SafeTensors.Tensor(t.name(), t.shape(), d));
        }
        SafeTensors.write(f, withoutChecksum(c), ts);
    }
}
