package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.data.InputTransform;
import dev.salvo.data.Normalization;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import dev.salvo.train.Evaluator;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ModelFileTest {

    static final NetworkSpec NET = NetworkSpec.input(12).dense(16, Activation.TANH).dense(8, Activation.LEAKY_RELU).dense(4).build();

    @Test
    void roundTripKeepsArchitectureParametersAndTransform(@TempDir Path dir) {
        float[] p = Model.initialParameters(NET, 3);
        Dataset d = Check.clusters("m", 50, 12, 4, 1);
        InputTransform t = Normalization.STANDARDIZE.fit(d);
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, NET, p, t, Map.of("dataset", "m"));
        ModelFile.Loaded l = ModelFile.load(f);
        assertEquals(NET, l.spec());
        assertArrayEquals(p, l.parameters());
        assertArrayEquals(t.shift(), l.transform().shift());
        assertArrayEquals(t.scale(), l.transform().scale());
        assertEquals("m", l.metadata().get("dataset"));
        // tensors are named and shaped as documented (PyTorch nn.Linear layout)
        SafeTensors.Contents c = SafeTensors.read(f);
        assertArrayEquals(new int[] {16, 12}, c.get("layers.0.weight").shape());
        assertArrayEquals(new int[] {4}, c.get("layers.2.bias").shape());
        ParamLayout.Tensor w1 = ParamLayout.of(NET).tensor("layers.1.weight");
        assertEquals(p[w1.offset() + 5], c.get("layers.1.weight").data()[5]);
    }

    @Test
    void tensorsThatDoNotMatchTheArchitectureAreRefused(@TempDir Path dir) {
        Path f = dir.resolve("bad.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 3), InputTransform.identity(12), Map.of());
        SafeTensors.Contents c = SafeTensors.read(f);
        List<SafeTensors.Tensor> ts = new ArrayList<>();
        for (SafeTensors.Tensor t : c.tensors()) {
            ts.add(t.name().equals("layers.1.weight") ? new SafeTensors.Tensor(t.name(), new int[] {16, 8}, t.data()) : t);
        }
        SafeTensors.write(f, c.metadata(), ts);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("layers.1.weight") && e.getMessage().contains(f.toString()), e.getMessage());
    }

    /** A model trained on one device evaluates to the same accuracy on every other. */
    @Test
    void aModelEvaluatesTheSameOnEveryDevice(@TempDir Path dir) {
        Dataset all = Check.clusters("x", 600, 12, 4, 9);
        Dataset.Split s = all.stratifiedSplit(0.3, 1, "train", "test");
        Path f = dir.resolve("x.safetensors");
        try (Device cpu = Devices.open("cpu").device(); Model m = new Model(cpu, NET, 1, 32);
             Trainer t = new Trainer(m, TrainConfig.defaults().withEpochs(3).withLearningRate(0.01))) {
            t.fit(s.first(), null, TrainListener.NONE);
            ModelFile.save(f, NET, m.parametersToHost(), InputTransform.identity(12), Map.of());
        }
        ModelFile.Loaded l = ModelFile.load(f);
        List<Double> acc = new ArrayList<>();
        for (String dev : List.of("cpu", "reference", "opencl")) {
            try (Device d = Devices.open(dev).device(); Model m = new Model(d, l.spec(), l.parameters(), 64)) {
                acc.add(Evaluator.run(m, s.second()).accuracy());
            } catch (DeviceException.Unavailable e) {
                // OpenCL missing here: the CPU and the reference still agree
            }
        }
        for (double a : acc) {
            assertEquals(acc.get(0), a, 0.005, "accuracy on every device: " + acc);
        }
    }

    // ---- integrity (issue 12: points 6, 8, 10a) ------------------------------------------------

    /** Saves NET and rewrites it as another tool would: these tensors (by name), this metadata, no checksum. */
    static Path rewritten(Path dir, java.util.function.UnaryOperator<List<SafeTensors.Tensor>> tensors,
                          java.util.function.Consumer<Map<String, String>> meta) {
        Path f = dir.resolve("model.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 3), Normalization.STANDARDIZE.fit(Check.clusters("m", 50, 12, 4, 1)),
                Map.of("dataset", "m"));
        SafeTensors.Contents c = SafeTensors.read(f);
        Map<String, String> m = new LinkedHashMap<>(c.metadata());
        m.remove("salvo.sha256");
        meta.accept(m);
        SafeTensors.write(f, m, tensors.apply(new ArrayList<>(c.tensors())));
        return f;
    }

    static List<SafeTensors.Tensor> without(List<SafeTensors.Tensor> ts, String... names) {
        ts.removeIf(t -> List.of(names).contains(t.name()));
        return ts;
    }

    @Test
    void aFileWithNeitherInputTensorLoadsWithTheIdentityTransform(@TempDir Path dir) {
        Path f = rewritten(dir, ts -> without(ts, "input.shift", "input.scale"), m -> { });
        ModelFile.Loaded l = ModelFile.load(f);
        assertTrue(l.transform().isIdentity(), "no input.shift / input.scale: x' = x");
        assertEquals(12, l.transform().shift().length);
    }

    @Test
    void aFileWithOnlyOneInputTensorNamesBothAndTheFile(@TempDir Path dir) {
        for (String missing : List.of("input.shift", "input.scale")) {
            Path f = rewritten(dir, ts -> without(ts, missing), m -> { });
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
            assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("both") && e.getMessage().contains(missing),
                    e.getMessage());
        }
    }

    @Test
    void aMissingLayerTensorNamesTheFileAndTheTensor(@TempDir Path dir) {
        Path f = rewritten(dir, ts -> without(ts, "layers.0.weight"), m -> { });
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().startsWith(f + ": tensor layers.0.weight: "), e.getMessage());
    }

    /** salvo.sha256 in __metadata__ is the SHA-256 of the data section (every byte after the header), lower-case hex. */
    @Test
    void theChecksumIsTheSha256OfTheDataSection(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 3), InputTransform.identity(12), Map.of());
        byte[] bytes = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(java.util.Arrays.copyOfRange(bytes, 8 + (int) n, bytes.length));
        assertEquals(HexFormat.of().formatHex(digest), SafeTensors.read(f).metadata().get("salvo.sha256"));
        assertTrue(new String(bytes, 8, (int) n, StandardCharsets.UTF_8).contains("\"salvo.sha256\""));
    }

    /** Every single changed byte of the tensor data is refused, naming the checksum; none loads as a different model. */
    @Test
    void everyFlippedByteOfTheDataIsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("m.safetensors");
        ModelFile.save(f, NET, Model.initialParameters(NET, 3), InputTransform.identity(12), Map.of());
        byte[] good = Files.readAllBytes(f);
        int start = 8 + (int) ByteBuffer.wrap(good, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        Path bad = dir.resolve("bad.safetensors");
        for (int i = start; i < good.length; i++) {
            byte[] b = good.clone();
            b[i] ^= (byte) (1 << (i % 8));
            Files.write(bad, b);
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(bad), "byte " + i);
            assertTrue(e.getMessage().contains("salvo.sha256") && e.getMessage().contains(bad.toString()), e.getMessage());
        }
    }

    /** A wrong checksum is refused, a malformed one too; a file without one (written by PyTorch) loads. */
    @Test
    void aWrongOrMalformedChecksumIsRefusedAMissingOneIsAllowed(@TempDir Path dir) {
        Path f = rewritten(dir, ts -> ts, m -> m.put("salvo.sha256", "0".repeat(64)));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains("__metadata__.salvo.sha256"), e.getMessage());
        Path g = rewritten(dir, ts -> ts, m -> m.put("salvo.sha256", "abc"));
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(g));
        assertTrue(e.getMessage().contains("__metadata__.salvo.sha256") && e.getMessage().contains("64"), e.getMessage());
        Path h = rewritten(dir, ts -> ts, m -> { });
        assertEquals(NET, ModelFile.load(h).spec());
    }

    @Test
    void aNonFiniteParameterIsRefusedNamingTheTensorAndIndex(@TempDir Path dir) {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            Path f = rewritten(dir, ts -> {
                for (int i = 0; i < ts.size(); i++) {
                    SafeTensors.Tensor t = ts.get(i);
                    if (t.name().equals("layers.1.weight")) { // (8, 16)
                        float[] d = t.data().clone();
                        d[2 * 16 + 5] = bad;
                        ts.set(i, new SafeTensors.Tensor(t.name(), t.shape(), d));
                    }
                }
                return ts;
            }, m -> { });
            SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
            assertTrue(e.getMessage().startsWith(f + ": tensor layers.1.weight: ") && e.getMessage().contains("[2, 5]")
                    && e.getMessage().contains(Float.toString(bad)), e.getMessage());
        }
        // the checksum does not make a non-finite model acceptable
        Path g = dir.resolve("nan.safetensors");
        float[] p = Model.initialParameters(NET, 3);
        p[ParamLayout.of(NET).tensor("layers.2.bias").offset() + 3] = Float.NaN;
        ModelFile.save(g, NET, p, InputTransform.identity(12), Map.of());
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(g));
        assertTrue(e.getMessage().contains("tensor layers.2.bias") && e.getMessage().contains("[3]"), e.getMessage());
        // nor an input transform
        Path h = rewritten(dir, ts -> {
            float[] sc = new float[12];
            java.util.Arrays.fill(sc, 1f);
            sc[7] = Float.NaN;
            ts.replaceAll(t -> t.name().equals("input.scale") ? new SafeTensors.Tensor(t.name(), t.shape(), sc) : t);
            return ts;
        }, m -> { });
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(h));
        assertTrue(e.getMessage().contains("tensor input.scale") && e.getMessage().contains("[7]"), e.getMessage());
    }

    /** With the checks of load bypassed, the NaN still reaches the loss on every device (ReLU no longer maps it to 0). */
    @Test
    void aNaNWeightIsNotHiddenByTheReLU() {
        NetworkSpec net = NetworkSpec.input(12).dense(16, Activation.RELU).dense(4).build();
        float[] p = Model.initialParameters(net, 3);
        p[ParamLayout.of(net).tensor("layers.0.weight").offset() + 5] = Float.NaN;
        Dataset d = Check.clusters("x", 100, 12, 4, 9);
        for (String dev : List.of("cpu", "reference", "opencl")) {
            try (Device device = Devices.open(dev).device(); Model m = new Model(device, net, p, 64)) {
                Evaluator.Report r = Evaluator.run(m, d);
                assertTrue(Double.isNaN(r.loss()), dev + ": loss " + r.loss() + ", accuracy " + r.accuracy());
            } catch (DeviceException.Unavailable e) {
                // OpenCL missing here
            }
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":16,\"activation\":\"tanh\"},{\"type\":\"dense\",\"activation\":\"relu\"}]}"
                + "|__metadata__.architecture.layers[1].units|expected a positive integer",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":\"16\",\"activation\":\"tanh\"}]}|__metadata__.architecture.layers[0].units|expected a positive integer",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":-3,\"activation\":\"tanh\"}]}|__metadata__.architecture.layers[0].units|expected a positive integer",
        "{\"layers\":[{\"type\":\"dense\",\"units\":4,\"activation\":\"tanh\"}]}|__metadata__.architecture.input|missing",
        "{\"inputs\":1.5,\"layers\":[]}|__metadata__.architecture.inputs|expected a positive integer",
        "{\"inputs\":12}|__metadata__.architecture.layers|expected a non-empty array",
        "{\"inputs\":12,\"layers\":{}}|__metadata__.architecture.layers|expected a non-empty array",
        "{\"inputs\":12,\"layers\":[7]}|__metadata__.architecture.layers[0]|expected an object",
        "{\"inputs\":12,\"layers\":[{\"units\":4}]}|__metadata__.architecture.layers[0].type|expected one of dense, conv2d",
        "{\"inputs\":12,\"layers\":[{\"type\":\"conv\"}]}|__metadata__.architecture.layers[0].type|unknown layer type \"conv\"",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":4,\"activation\":7}]}|__metadata__.architecture.layers[0].activation|expected one of",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":4,\"activation\":\"swish\"}]}|__metadata__.architecture.layers[0].activation|expected one of identity",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":4,\"activation\":\"relu\"}],\"loss\":7}|__metadata__.architecture.loss|expected cross-entropy or mse",
        "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":4,\"activation\":\"relu\"}],\"init\":\"zeros\"}|__metadata__.architecture.init|unknown init",
        "{\"inputs\":12,\"layers\":[{\"type\":\"softmax\"}]}|__metadata__.architecture.layers|no parameters to train",
        "[1,2]|__metadata__.architecture|expected an object",
        "{\"inputs\":12,|__metadata__.architecture|not valid JSON",
    })
    void malformedArchitectureNamesTheField(String architecture, String field, String expected, @TempDir Path dir) {
        Path f = rewritten(dir, ts -> ts, m -> m.put("architecture", architecture));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().startsWith(f + ": " + field + ": ") && e.getMessage().contains(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        assertTrue(!e.getMessage().contains("Exception") && !e.getMessage().contains("null"), e.getMessage());
    }

    /** A file of the dense-only format written before graphs ({@code salvo.mlp.v1}, its architecture as then written) loads. */
    @Test
    void anMlpV1FileStillLoads(@TempDir Path dir) {
        String old = "{\"inputs\":12,\"layers\":[{\"type\":\"dense\",\"units\":16,\"activation\":\"tanh\"},"
                + "{\"type\":\"dense\",\"units\":8,\"activation\":\"leaky-relu\"},"
                + "{\"type\":\"dense\",\"units\":4,\"activation\":\"identity\"}],\"loss\":\"cross-entropy\",\"init\":\"auto\"}";
        Path f = rewritten(dir, ts -> ts, m -> {
            m.put("format", ModelFile.MLP_FORMAT);
            m.put("architecture", old);
        });
        ModelFile.Loaded l = ModelFile.load(f);
        assertEquals(NET.describe(), l.spec().describe());
        assertArrayEquals(Model.initialParameters(NET, 3), l.parameters());
        assertEquals(0, l.state().length);
    }

    @Test
    void aMissingArchitectureOrFormatIsNamed(@TempDir Path dir) {
        Path f = rewritten(dir, ts -> ts, m -> m.remove("architecture"));
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().startsWith(f + ": __metadata__.architecture: "), e.getMessage());
        Path g = rewritten(dir, ts -> ts, m -> m.remove("format"));
        e = assertThrows(SafeTensorsException.class, () -> ModelFile.load(g));
        assertTrue(e.getMessage().startsWith(g + ": __metadata__.format: ") && e.getMessage().contains(ModelFile.FORMAT), e.getMessage());
    }
}
