package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceContract;
import dev.salvo.device.Devices;
import dev.salvo.io.SafeTensors;
import dev.salvo.train.EpochStats;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Salvo against PyTorch, the way llm.c's {@code test_gpt2} checks itself: a small CNN (conv2d, batch
 * norm, ReLU, max and average pooling, a residual add, flatten, dense, 1-D batch norm, tanh) whose
 * logits, loss and every parameter gradient PyTorch 1.13 computed in float64 from float32 weights
 * and inputs ({@code src/test/resources/pytorch/cnn_reference.py} wrote the committed file), then
 * the losses of 5 SGD and 5 AdamW steps. On every available provider, in float32 against the
 * float64 file (the design document, "Checked against PyTorch"):
 * <ul>
 * <li>logits and loss: {@code |x - ref| <= 1e-5 max|ref| + 1e-6} over the tensor;</li>
 * <li>each gradient tensor: {@code |g - ref| <= 1e-4 max|ref| + 1e-6} over the tensor (the floor: a conv bias
 * under batch norm has a gradient of exactly 0, float32 leaves ~1e-10);</li>
 * <li>each of the 5 losses of SGD and of AdamW: relative error at most 1e-4.</li>
 * </ul>
 * The test needs neither Python nor PyTorch.
 */
class PyTorchCnnReferenceTest {

    /** The committed reference file, a test resource (so the GPU bundle carries it too). */
    private static SafeTensors.Contents reference() {
        try (java.io.InputStream in = PyTorchCnnReferenceTest.class.getResourceAsStream("/pytorch/cnn_reference.safetensors")) {
            assertTrue(in != null, "the test resource pytorch/cnn_reference.safetensors is missing");
            Path tmp = java.nio.file.Files.createTempFile("cnn_reference", ".safetensors");
            try {
                java.nio.file.Files.write(tmp, in.readAllBytes());
                return SafeTensors.read(tmp);
            } finally {
                java.nio.file.Files.deleteIfExists(tmp);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void forwardLossAndEveryGradientMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        SafeTensors.Contents ref = reference();
        NetworkSpec spec = NetworkJson.parse(ref.metadata().get("net"));
        int rows = Integer.parseInt(ref.metadata().get("rows"));
        try (Device d = Devices.open(provider).device(); Model m = new Model(d, spec, initial(ref, spec), rows)) {
            d.upload(ref.find("input").data(), m.input().slice(0, (long) rows * spec.inputs()));
            d.upload(labels(ref), m.labels().slice(0, rows));
            m.train(1);
            m.forward(rows);
            m.loss(rows);
            m.backward(rows);
            float[] logits = new float[rows * spec.outputs()];
            d.download(m.output().slice(0, logits.length), logits);
            within(provider + " logits", ref.find("logits").data(), logits, 1e-5);
            float[] rowLoss = new float[rows];
            d.download(m.rowLoss().slice(0, rows), rowLoss);
            double loss = 0;
            for (float v : rowLoss) {
                loss += v;
            }
            within(provider + " loss", ref.find("loss").data(), new float[] {(float) (loss / rows)}, 1e-5);
            float[] g = new float[m.layout().size()];
            d.download(m.gradients(), g);
            int checked = 0;
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                float[] mine = java.util.Arrays.copyOfRange(g, t.offset(), t.offset() + t.length());
                within(provider + " gradient of " + t.name(), ref.find("grad." + t.name()).data(), mine, 1e-4);
                checked++;
            }
            assertEquals(ref.tensors().stream().filter(x -> x.name().startsWith("grad.")).count(), checked,
                    "every gradient PyTorch wrote is checked");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void fiveSgdAndFiveAdamWStepsMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        SafeTensors.Contents ref = reference();
        Map<String, String> meta = ref.metadata();
        NetworkSpec spec = NetworkJson.parse(meta.get("net"));
        int rows = Integer.parseInt(meta.get("rows"));
        int steps = Integer.parseInt(meta.get("steps"));
        Dataset data = new Dataset("pytorch-reference", ref.find("input").data(), labels(ref), rows, spec.inputs(), spec.outputs());
        TrainConfig base = TrainConfig.defaults().withBatchSize(rows).withEpochs(steps);
        for (String name : List.of("sgd", "adamw")) {
            TrainConfig cfg = name.equals("sgd")
                    ? base.withOptimizer(new Optimizer.Sgd(0, false, 0)).withLearningRate(Double.parseDouble(meta.get("sgd_lr")))
                    : base.withOptimizer(new Optimizer.Adam(0.9, 0.999, 1e-8, 0.01, true)).withLearningRate(0.01);
            try (Device d = Devices.open(provider).device(); Model m = new Model(d, spec, initial(ref, spec), rows);
                 Trainer t = new Trainer(m, cfg)) {
                History h = t.fit(data, null, new TrainListener() {
                });
                float[] want = ref.find(name + ".losses").data();
                assertEquals(steps, h.epochs().size());
                for (int i = 0; i < steps; i++) {
                    EpochStats e = h.epochs().get(i);
                    double rel = Math.abs(e.trainLoss() - want[i]) / Math.abs(want[i]);
                    assertTrue(rel <= 1e-4, provider + " " + name + " step " + (i + 1) + ": loss " + e.trainLoss() + ", PyTorch "
                            + want[i] + " (relative error " + rel + ")");
                }
            }
        }
    }

    private static int[] labels(SafeTensors.Contents ref) {
        float[] l = ref.find("labels").data();
        int[] y = new int[l.length];
        for (int i = 0; i < l.length; i++) {
            y[i] = (int) l[i];
        }
        return y;
    }

    /** The initial parameters PyTorch started from, by name, in Salvo's layout. */
    private static float[] initial(SafeTensors.Contents ref, NetworkSpec spec) {
        ParamLayout layout = ParamLayout.of(spec);
        float[] p = new float[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            SafeTensors.Tensor x = ref.find("init." + t.name());
            assertTrue(x != null, "the reference has no init." + t.name());
            assertEquals(t.length(), x.data().length, t.name());
            System.arraycopy(x.data(), 0, p, t.offset(), t.length());
        }
        return p;
    }

    /** Every element within {@code rel * max|ref| + 1e-6} of the reference (a conv bias under batch norm has a zero gradient). */
    private static void within(String what, float[] ref, float[] got, double rel) {
        assertEquals(ref.length, got.length, what + ": size");
        double max = 0;
        for (float v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - (double) ref[i]);
            assertTrue(err <= rel * max + 1e-6, what + "[" + i + "] is " + got[i] + ", PyTorch " + ref[i] + " (error " + err
                    + ", bound " + (rel * max + 1e-6) + ")");
        }
    }
}
