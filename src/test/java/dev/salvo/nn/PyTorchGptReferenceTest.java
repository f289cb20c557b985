package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceContract;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.io.SafeTensors;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TextWindows;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Salvo's GPT against PyTorch, the way llm.c's {@code test_gpt2} checks itself: nanoGPT's model (2
 * layers, 2 heads, 32 wide, context 16, the Genesis text's 70-character vocabulary, tied
 * embedding and output weights) on one batch of 4 windows, computed by PyTorch 1.13 in float64 from
 * float32 weights ({@code src/test/resources/pytorch/gpt_reference.py} wrote the committed file):
 * logits, loss and every parameter gradient, at nanoGPT's initialization and "hot" (every 2-D
 * tensor times 16, where GELU, softmax and attention are far from linear), then the losses and
 * gradient norms of 10 AdamW steps with clipping at 1.0 and decay on matrices only: on that batch,
 * made of the calls a trainer step makes, and through {@code Trainer.fit(TextWindows)} itself on
 * a training split of one of its windows. On every available provider, in float32 against the
 * float64 file (the design document, "The GPT against PyTorch", derives the bounds):
 * <ul>
 * <li>logits and loss: {@code |x - ref| <= 1e-5 max|ref|} over the tensor;</li>
 * <li>each gradient tensor: {@code |g - ref| <= 1e-4 max|ref|} over the tensor (the key third of
 * {@code c_attn.bias} has a gradient of exactly 0 in exact arithmetic: the softmax ignores a
 * constant added to every score of a row; float32 leaves noise there far below the bound);</li>
 * <li>each of the 10 losses, and each global gradient norm before clipping: relative error at most 1e-4;</li>
 * <li>after the 10 steps on the batch, every bias and layer-norm parameter (no decay) within 2e-4.</li>
 * </ul>
 * The test needs neither Python nor PyTorch ({@code GptReferenceScriptTest} reruns the script
 * when PyTorch is there).
 */
class PyTorchGptReferenceTest {

    /** Logits and loss: relative to the tensor's largest magnitude. */
    static final double FORWARD_BOUND = 1e-5;
    /** Every gradient tensor: relative to its largest magnitude. */
    static final double GRADIENT_BOUND = 1e-4;
    /** Each of the 10 training losses: relative. */
    static final double LOSS_STEPS_BOUND = 1e-4;
    /** Biases and layer-norm parameters after the 10 steps on the batch: absolute (decay would move the weights by 1e-3). */
    static final double FINAL_BOUND = 2e-4;

    static final String RESOURCE = "/pytorch/gpt_reference.safetensors";

    /** The committed reference file, a test resource (so the GPU bundle carries it too). */
    static SafeTensors.Contents reference() {
        try (java.io.InputStream in = PyTorchGptReferenceTest.class.getResourceAsStream(RESOURCE)) {
            assertTrue(in != null, "the test resource " + RESOURCE + " is missing");
            Path tmp = Files.createTempFile("gpt_reference", ".safetensors");
            try {
                Files.write(tmp, in.readAllBytes());
                return SafeTensors.read(tmp);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The run's configuration as the script wrote it (metadata "config"). */
    record Config(int layers, int heads, int embd, int context, int vocab, int batch) {
        static Config of(SafeTensors.Contents ref) {
            try {
                JsonNode c = new ObjectMapper().readTree(ref.metadata().get("config"));
                Config cfg = new Config(c.get("layers").asInt(), c.get("heads").asInt(), c.get("embd").asInt(),
                        c.get("context").asInt(), c.get("vocab").asInt(), c.get("batch").asInt());
                assertEquals(cfg.vocab, ref.metadata().get("vocab").codePointCount(0, ref.metadata().get("vocab").length()),
                        "the vocabulary string and its size agree");
                return cfg;
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        NetworkSpec spec() {
            return Gpt.spec(layers, heads, embd, context, vocab);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void forwardLossAndEveryGradientMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        check(provider, "", 1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void hotWeightsForwardLossAndEveryGradientMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        SafeTensors.Contents ref = reference();
        check(provider, "hot.", Integer.parseInt(ref.metadata().get("hot")));
    }

    /** Forward, loss and backward on the batch from the initial weights (2-D tensors times {@code hot}, exact). */
    private static void check(String provider, String prefix, int hot) {
        SafeTensors.Contents ref = reference();
        Config cfg = Config.of(ref);
        NetworkSpec spec = cfg.spec();
        int rows = cfg.batch;
        int positions = rows * cfg.context;
        assertEquals(cfg.context, spec.positions(), "a label at every position");
        assertEquals(cfg.vocab, spec.classes());
        float[] init = initial(ref, spec, hot);
        try (Device d = Devices.open(provider).device(); Model m = new Model(d, spec, init, rows)) {
            d.upload(ref.find("x").data(), m.input().slice(0, positions));
            d.upload(ids(ref.find("y").data()), m.labels(rows));
            m.train(1);
            m.forward(rows);
            m.loss(rows);
            m.backward(rows);
            float[] logits = new float[positions * cfg.vocab];
            d.download(m.output().slice(0, logits.length), logits);
            within(provider + " " + prefix + "logits", ref.find(prefix + "logits").data(), logits, FORWARD_BOUND);
            float[] rowLoss = new float[positions];
            d.download(m.rowLoss(rows), rowLoss);
            double loss = 0;
            for (float v : rowLoss) {
                loss += v;
            }
            within(provider + " " + prefix + "loss", ref.find(prefix + "loss").data(), new float[] {(float) (loss / positions)},
                    FORWARD_BOUND);
            float[] g = new float[m.layout().size()];
            d.download(m.gradients(), g);
            List<String> checked = new ArrayList<>();
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                SafeTensors.Tensor want = ref.find(prefix + "grad." + t.name());
                assertTrue(want != null, "the reference has no " + prefix + "grad." + t.name());
                float[] mine = java.util.Arrays.copyOfRange(g, t.offset(), t.offset() + t.length());
                within(provider + " " + prefix + "gradient of " + t.name(), want.data(), mine, GRADIENT_BOUND);
                checked.add(t.name());
            }
            assertEquals(ref.tensors().stream().filter(x -> x.name().startsWith(prefix + "grad.")).count(), checked.size(),
                    "every gradient PyTorch wrote is checked: " + checked);
        }
    }

    /**
     * The 10 steps on the reference batch itself (4 different windows, the same batch every step),
     * made of the calls the trainer makes for a step (the trainer draws its windows at random, so
     * it cannot be handed this batch): forward, loss, backward, {@code ReduceOps.sumSquares} and
     * {@code OptimizerOps.clipScale} (clip_grad_norm_ at 1.0 on the device), then AdamW with the
     * factor, decayed on tensors of 2 or more dimensions only ({@link DecayPolicy#MATRICES}),
     * one update per tensor. Each loss (before its update) and each global norm (before clipping)
     * within 1e-4 relative of PyTorch's.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void tenAdamWStepsWithClippingOnTheBatchMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        SafeTensors.Contents ref = reference();
        Map<String, String> meta = ref.metadata();
        Config c = Config.of(ref);
        NetworkSpec spec = c.spec();
        int steps = Integer.parseInt(meta.get("steps"));
        float[] want = ref.find("adamw.losses").data();
        float[] wantNorms = ref.find("adamw.grad_norms").data();
        int rows = c.batch;
        int positions = rows * c.context;
        Optimizer.Adam adam = (Optimizer.Adam) config(meta, rows, 1).optimizer();
        double lr = config(meta, rows, 1).learningRate();
        try (Device d = Devices.open(provider).device(); Model m = new Model(d, spec, initial(ref, spec, 1), rows)) {
            int n = m.layout().size();
            DeviceBuffer m1 = zeros(d, n);
            DeviceBuffer m2 = zeros(d, n);
            DeviceBuffer parts = zeros(d, ReduceOps.SUMSQ_PARTS);
            DeviceBuffer norm = zeros(d, 1);
            DeviceBuffer scale = zeros(d, 1);
            DeviceBuffer health = zeros(d, 1);
            dev.salvo.device.AdamStep step = adam.step(lr, 1);
            List<OpCall> updates = new ArrayList<>();
            List<Boolean> decayed = new ArrayList<>();
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                updates.add(OptimizerOps.adam(m.parameters().slice(t.offset(), t.length()), m.gradients().slice(t.offset(), t.length()),
                        m1.slice(t.offset(), t.length()), m2.slice(t.offset(), t.length()), step, scale, health));
                decayed.add(DecayPolicy.MATRICES.decays(t.shape()));
            }
            OpCall sumSquares = ReduceOps.sumSquares(m.gradients(), parts);
            OpCall clip = OptimizerOps.clipScale(parts, 1.0, norm, scale);
            d.upload(ref.find("x").data(), m.input().slice(0, positions));
            d.upload(ids(ref.find("y").data()), m.labels(rows));
            float[] rowLoss = new float[positions];
            float[] normHost = new float[1];
            double worst = 0;
            for (int k = 1; k <= steps; k++) {
                m.train(k);
                m.forward(rows);
                m.loss(rows);
                m.backward(rows);
                d.run(sumSquares);
                d.run(clip);
                for (int u = 0; u < updates.size(); u++) {
                    d.run(OptimizerOps.set(updates.get(u), step.at(lr, k), decayed.get(u)));
                }
                d.download(m.rowLoss(rows), rowLoss);
                d.download(norm, normHost);
                double loss = 0;
                for (float v : rowLoss) {
                    loss += v;
                }
                loss /= positions;
                double rel = Math.abs(loss - want[k - 1]) / Math.abs(want[k - 1]);
                assertTrue(rel <= LOSS_STEPS_BOUND, provider + " step " + k + ": loss " + loss + ", PyTorch " + want[k - 1]
                        + " (relative error " + rel + ")");
                double relNorm = Math.abs(normHost[0] - wantNorms[k - 1]) / wantNorms[k - 1];
                assertTrue(relNorm <= LOSS_STEPS_BOUND, provider + " step " + k + ": gradient norm " + normHost[0] + ", PyTorch "
                        + wantNorms[k - 1] + " (relative error " + relNorm + ")");
                worst = Math.max(worst, Math.max(rel, relNorm));
            }
            report(provider + " batch losses and norms", worst, LOSS_STEPS_BOUND);
            // the parameters that take no decay, after the 10 updates (the losses alone barely see the policy)
            float[] p = new float[n];
            d.download(m.parameters(), p);
            int checked = 0;
            double worstFinal = 0;
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                if (t.shape().length >= 2) {
                    continue;
                }
                float[] wantFinal = ref.find("adamw.final." + t.name()).data();
                for (int i = 0; i < t.length(); i++) {
                    double err = Math.abs(p[t.offset() + i] - (double) wantFinal[i]);
                    assertTrue(err <= FINAL_BOUND, provider + " " + t.name() + "[" + i + "] after 10 steps is " + p[t.offset() + i]
                            + ", PyTorch " + wantFinal[i] + " (error " + err + ")");
                    worstFinal = Math.max(worstFinal, err);
                }
                checked++;
            }
            assertEquals(ref.tensors().stream().filter(x -> x.name().startsWith("adamw.final.")).count(), checked);
            report(provider + " undecayed parameters after 10 steps", worstFinal, FINAL_BOUND);
        }
    }

    private static DeviceBuffer zeros(Device d, int n) {
        DeviceBuffer b = d.allocFloat(n);
        d.run(ElementwiseOps.fill(b, 0));
        return b;
    }

    /**
     * The trainer's own loop ({@link Trainer#fit(TextWindows, TrainListener, dev.salvo.train.Checkpoint.Policy)}:
     * windows gathered on the device, forward, loss, backward, the health check, clipping, AdamW with
     * decay on matrices, the loss read back every step) for 10 steps on a training split that is one
     * window of the reference ({@code x[1]}, {@code y[1]}): every start the trainer can draw is 0, so
     * each batch is 4 copies of that window, as the script's {@code trainer.losses} run had it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu", "opencl", "cuda"})
    void tenTrainerStepsWithClippingMatchPyTorch(String provider) {
        DeviceContract.availableOrSkip(provider);
        SafeTensors.Contents ref = reference();
        Map<String, String> meta = ref.metadata();
        Config c = Config.of(ref);
        int steps = Integer.parseInt(meta.get("steps"));
        int row = Integer.parseInt(meta.get("trainer_row"));
        float[] want = ref.find("trainer.losses").data();
        assertEquals(steps, want.length);
        int[] x = ids(ref.find("x").data());
        int[] y = ids(ref.find("y").data());
        int t = c.context;
        int[] window = new int[t + 1]; // x[row] and the last label: t + 1 tokens
        System.arraycopy(x, row * t, window, 0, t);
        window[t] = y[row * t + t - 1];
        for (int j = 0; j + 1 < t; j++) {
            assertEquals(x[row * t + j + 1], y[row * t + j], "y is x shifted by one");
        }
        int[] tokens = new int[2 * (t + 1)]; // the training split, then a validation split of the same window
        System.arraycopy(window, 0, tokens, 0, t + 1);
        System.arraycopy(window, 0, tokens, t + 1, t + 1);
        TextWindows text = new TextWindows("pytorch-gpt-reference", tokens, t + 1, c.vocab, t, steps, steps, 1);
        float[] wantNorms = ref.find("trainer.grad_norms").data();
        List<Double> losses = new ArrayList<>();
        List<Double> norms = new ArrayList<>();
        try (Device d = Devices.open(provider).device(); Model m = new Model(d, c.spec(), initial(ref, c.spec(), 1), c.batch);
             Trainer tr = new Trainer(m, config(meta, c.batch, text.epochs()))) {
            tr.fit(text, new TrainListener() {
                @Override
                public void onLoss(long step, double loss) {
                    assertEquals(losses.size(), step, "losses in step order");
                    losses.add(loss);
                }

                @Override
                public void onGradNorm(long step, double norm) {
                    assertEquals(norms.size(), step, "norms in step order");
                    norms.add(norm);
                }
            }, null);
        }
        assertEquals(steps, losses.size());
        assertEquals(steps, norms.size());
        double worst = 0;
        for (int i = 0; i < steps; i++) {
            double rel = Math.abs(losses.get(i) - want[i]) / Math.abs(want[i]);
            assertTrue(rel <= LOSS_STEPS_BOUND, provider + " step " + (i + 1) + ": loss " + losses.get(i) + ", PyTorch " + want[i]
                    + " (relative error " + rel + ")");
            // the global norm before clipping (above 1 at every step: the clip bites every time)
            double relNorm = Math.abs(norms.get(i) - wantNorms[i]) / wantNorms[i];
            assertTrue(relNorm <= LOSS_STEPS_BOUND, provider + " step " + (i + 1) + ": gradient norm " + norms.get(i) + ", PyTorch "
                    + wantNorms[i] + " (relative error " + relNorm + ")");
            worst = Math.max(worst, Math.max(rel, relNorm));
        }
        report(provider + " trainer losses and norms", worst, LOSS_STEPS_BOUND);
    }

    /**
     * nanoGPT's training as the script ran it: AdamW (lr 1e-3, betas (0.9, 0.99), eps 1e-8, weight
     * decay 0.1 on tensors of 2 or more dimensions only), the gradient clipped to global norm 1.0
     * before each update, a constant rate, the loss read back every step.
     */
    private static TrainConfig config(Map<String, String> meta, int batch, int epochs) {
        assertEquals("{\"lr\": 0.001, \"betas\": [0.9, 0.99], \"eps\": 1e-08, \"weight_decay\": 0.1}", meta.get("adamw"));
        assertEquals("1.0", meta.get("clip_norm"));
        return TrainConfig.defaults().withBatchSize(batch).withEpochs(epochs)
                .withOptimizer(new Optimizer.Adam(0.9, 0.99, 1e-8, 0.1, true))
                .withLearningRate(1e-3)
                .withSchedule(new Schedule.Constant(0))
                .withLossEvery(1)
                .withDecay(DecayPolicy.MATRICES)
                .withClipNorm(1.0);
    }

    /** Token ids stored as exact floats. */
    private static int[] ids(float[] v) {
        int[] y = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            y[i] = (int) v[i];
            assertEquals(y[i], v[i], "ids are whole numbers");
        }
        return y;
    }

    /**
     * The initial parameters PyTorch started from, by name, in Salvo's layout; tensors of 2 or more
     * dimensions times {@code hot} (a power of two: exact). Every {@code init.} tensor of the file
     * must have a place in the layout (the tied output weight has none of its own).
     */
    private static float[] initial(SafeTensors.Contents ref, NetworkSpec spec, int hot) {
        assertEquals(0, Integer.bitCount(hot) - 1, "hot is a power of two");
        ParamLayout layout = ParamLayout.of(spec);
        float[] p = new float[layout.size()];
        for (ParamLayout.Tensor t : layout.tensors()) {
            SafeTensors.Tensor x = ref.find("init." + t.name());
            assertTrue(x != null, "the reference has no init." + t.name());
            assertEquals(java.util.Arrays.toString(x.shape()), java.util.Arrays.toString(t.shape()), t.name() + ": shape");
            float scale = x.shape().length >= 2 ? hot : 1;
            for (int i = 0; i < t.length(); i++) {
                p[t.offset() + i] = x.data()[i] * scale;
            }
        }
        assertEquals(ref.tensors().stream().filter(x -> x.name().startsWith("init.")).count(), layout.tensors().size(),
                "every parameter PyTorch wrote has a place in Salvo's layout");
        return p;
    }

    /** Every element within {@code rel * max|ref|} of the reference. */
    private static void within(String what, float[] ref, float[] got, double rel) {
        assertEquals(ref.length, got.length, what + ": size");
        double max = 0;
        for (float v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max > 0, what + ": the reference is all zero");
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - (double) ref[i]);
            assertTrue(err <= rel * max, what + "[" + i + "] is " + got[i] + ", PyTorch " + ref[i] + " (error " + err
                    + ", bound " + rel * max + ")");
            worst = Math.max(worst, err);
        }
        report(what, worst / max, rel);
    }

    /** With {@code -Dsalvo.reportErrors=true}: the worst error seen against its bound, one line. */
    private static void report(String what, double worst, double bound) {
        if (Boolean.getBoolean("salvo.reportErrors")) {
            System.out.printf("%s: worst error %.3g (bound %.0e)%n", what, worst, bound);
        }
    }
}
