package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.DecayPolicy;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * GPT-2-style training options in the trainer: gradient clipping by global norm (PyTorch's
 * {@code clip_grad_norm_}) and weight decay on matrices only (nanoGPT), against a host float64
 * computation of the same steps; with clipping off and decay on all tensors, training is bitwise
 * what it was.
 */
class ClipAndDecayTest {

    private static final int ROWS = 16;
    private static final int IN = 6;
    private static final int OUT = 4;

    private static Device cpu() {
        return CpuProvider.open(CpuSettings.load());
    }

    /** A linear classifier (dense 4 on 6 features, softmax cross-entropy): its gradients are easy to write down. */
    private static NetworkSpec linear() {
        return NetworkSpec.input(IN).dense(OUT).build();
    }

    /**
     * {@code steps} full-batch AdamW steps on the host in float64: mean cross-entropy gradients,
     * then {@code clip_grad_norm_(maxNorm)} (0: none), then AdamW with decay on the weight always
     * and on the bias only under {@link DecayPolicy#ALL}. Returns W (OUT, IN) then b (OUT); the
     * global norm of each step's gradients goes into {@code norms}.
     */
    private static double[] host(double[] w0, double[] b0, Dataset d, int steps, double lr, double b1, double b2, double eps,
                                 double wd, double maxNorm, DecayPolicy policy, List<Double> norms) {
        double[] p = new double[OUT * IN + OUT];
        System.arraycopy(w0, 0, p, 0, OUT * IN);
        System.arraycopy(b0, 0, p, OUT * IN, OUT);
        double[] m = new double[p.length];
        double[] v = new double[p.length];
        for (int t = 1; t <= steps; t++) {
            double[] g = new double[p.length];
            for (int r = 0; r < ROWS; r++) {
                double[] z = new double[OUT];
                double mx = Double.NEGATIVE_INFINITY;
                for (int o = 0; o < OUT; o++) {
                    z[o] = p[OUT * IN + o];
                    for (int i = 0; i < IN; i++) {
                        z[o] += p[o * IN + i] * d.features()[r * IN + i];
                    }
                    mx = Math.max(mx, z[o]);
                }
                double s = 0;
                for (int o = 0; o < OUT; o++) {
                    s += Math.exp(z[o] - mx);
                }
                for (int o = 0; o < OUT; o++) {
                    double dz = (Math.exp(z[o] - mx) / s - (o == d.labels()[r] ? 1 : 0)) / ROWS;
                    g[OUT * IN + o] += dz;
                    for (int i = 0; i < IN; i++) {
                        g[o * IN + i] += dz * d.features()[r * IN + i];
                    }
                }
            }
            double sq = 0;
            for (double x : g) {
                sq += x * x;
            }
            double norm = Math.sqrt(sq);
            norms.add(norm);
            double clip = maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1;
            for (int k = 0; k < p.length; k++) {
                double gk = g[k] * clip;
                boolean decayed = k < OUT * IN || policy == DecayPolicy.ALL;
                if (decayed) {
                    p[k] *= 1 - lr * wd;
                }
                m[k] = b1 * m[k] + (1 - b1) * gk;
                v[k] = b2 * v[k] + (1 - b2) * gk * gk;
                double bc1 = 1 - Math.pow(b1, t);
                double bc2 = 1 - Math.pow(b2, t);
                p[k] -= lr / bc1 * m[k] / (Math.sqrt(v[k]) / Math.sqrt(bc2) + eps);
            }
        }
        return p;
    }

    /** Trains {@code steps} full-batch steps; returns W then b, and the read-back norms into {@code norms}. */
    private static double[] salvo(Dataset d, int steps, TrainConfig cfg, List<Double> norms, float[] init) {
        try (Device dev = cpu(); Model m = new Model(dev, linear(), 3, ROWS); Trainer t = new Trainer(m, cfg)) {
            init(m, init);
            t.fit(d, null, new TrainListener() {
                @Override
                public void onGradNorm(long step, double norm) {
                    norms.add(norm);
                }
            });
            float[] p = m.parametersToHost();
            ParamLayout l = m.layout();
            double[] out = new double[OUT * IN + OUT];
            for (int k = 0; k < OUT * IN; k++) {
                out[k] = p[l.tensor("layers.0.weight").offset() + k];
            }
            for (int k = 0; k < OUT; k++) {
                out[OUT * IN + k] = p[l.tensor("layers.0.bias").offset() + k];
            }
            if (!norms.isEmpty()) {
                assertEquals(norms.get(norms.size() - 1), t.lastGradNorm(), 0, "lastGradNorm");
            }
            return out;
        }
    }

    /** Gives the model's bias a non-zero start (so that decaying it or not shows). */
    private static void init(Model m, float[] init) {
        m.loadParameters(init);
    }

    private static float[] initial(Model m) {
        float[] p = m.parametersToHost();
        int bo = m.layout().tensor("layers.0.bias").offset();
        for (int k = 0; k < OUT; k++) {
            p[bo + k] = 0.5f * (k + 1);
        }
        return p;
    }

    @Test
    void clippingAndMatrixDecayMatchAFloat64ComputationOfPyTorchsSteps() {
        Dataset d = Check.clusters("clip", ROWS, IN, OUT, 7);
        float[] init;
        double[] w0 = new double[OUT * IN];
        double[] b0 = new double[OUT];
        try (Device dev = cpu(); Model m = new Model(dev, linear(), 3, ROWS)) {
            init = initial(m);
            for (int k = 0; k < OUT * IN; k++) {
                w0[k] = init[m.layout().tensor("layers.0.weight").offset() + k];
            }
            for (int k = 0; k < OUT; k++) {
                b0[k] = init[m.layout().tensor("layers.0.bias").offset() + k];
            }
        }
        int steps = 6;
        double lr = 0.05;
        for (Object[] c : new Object[][] {{0.05, DecayPolicy.MATRICES}, {0.05, DecayPolicy.ALL}, {0.0, DecayPolicy.MATRICES},
            {1e3, DecayPolicy.ALL}}) {
            double maxNorm = (Double) c[0];
            DecayPolicy policy = (DecayPolicy) c[1];
            TrainConfig cfg = TrainConfig.defaults().withOptimizer(new Optimizer.Adam(0.9, 0.95, 1e-8, 0.1, true))
                    .withLearningRate(lr).withBatchSize(ROWS).withEpochs(steps).withClipNorm(maxNorm).withDecay(policy);
            List<Double> hostNorms = new ArrayList<>();
            double[] want = host(w0, b0, d, steps, lr, 0.9, 0.95, 1e-8, 0.1, maxNorm, policy, hostNorms);
            List<Double> norms = new ArrayList<>();
            double[] got = salvo(d, steps, cfg, norms, init);
            String what = "clip " + maxNorm + ", decay " + policy;
            for (int k = 0; k < want.length; k++) {
                // float32 gradients (relative ~1e-6) through 6 Adam steps of lr 0.05: |error| well below 1e-5
                assertEquals(want[k], got[k], 1e-5 + 1e-5 * Math.abs(want[k]), what + ": parameter " + k);
            }
            if (maxNorm > 0) {
                assertEquals(steps, norms.size(), what + ": one norm per step");
                for (int s = 0; s < steps; s++) {
                    assertEquals(hostNorms.get(s), norms.get(s), 1e-5 * hostNorms.get(s), what + ": norm of step " + s);
                }
                if (maxNorm < 1) {
                    assertTrue(hostNorms.get(0) > maxNorm, "the test clips: norm " + hostNorms.get(0));
                }
            } else {
                assertTrue(norms.isEmpty(), "no norms without clipping");
            }
        }
    }

    /**
     * Clipping off and decay on all tensors is the single update of before: bitwise what a clip
     * that never bites gives (a scale of exactly 1), and the parameters' SHA-256 is the one the
     * code before clipping and decay policies existed (commit 551cebc) trains on this machine's
     * CPU provider.
     */
    @Test
    void clipOffAndDecayAllAreBitwiseUnchanged() {
        NetworkSpec spec = NetworkSpec.input(20).dense(32, Activation.RELU).dense(5).build();
        Dataset data = Check.clusters("bitwise", 256, 20, 5, 4);
        TrainConfig base = TrainConfig.defaults().withOptimizer(new Optimizer.Adam(0.9, 0.999, 1e-8, 0.05, true))
                .withLearningRate(0.01).withBatchSize(32).withEpochs(2).withLossEvery(3);
        float[] off = train(spec, data, base);
        float[] never = train(spec, data, base.withClipNorm(1e30));
        assertArrayEquals(off, never, "a clip scale of 1 changes nothing");
        float[] all = train(spec, data, base.withDecay(DecayPolicy.ALL));
        assertArrayEquals(off, all, "ALL is the default");
        float[] matrices = train(spec, data, base.withDecay(DecayPolicy.MATRICES));
        assertTrue(!java.util.Arrays.equals(off, matrices), "MATRICES spares the biases");
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 32)) {
            assertEquals(PINNED, m.layout().sha256(off), "the parameters the code before clipping trained");
        }
    }

    /** SHA-256 of the parameters {@link #clipOffAndDecayAllAreBitwiseUnchanged} trains, by the code of commit 551cebc. */
    private static final String PINNED = "3bf62ad2861e92b906428516b66d0fd86062d8512ad069b359fe186d31a7e7f8";

    private static float[] train(NetworkSpec spec, Dataset data, TrainConfig cfg) {
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 32); Trainer t = new Trainer(m, cfg)) {
            t.fit(data, null, TrainListener.NONE);
            return m.parametersToHost();
        }
    }

    /** MATRICES decays 2-D and larger tensors only: with zero gradients (lr on an untrainable loss) only matrices shrink. */
    @Test
    void matricesPolicyDecaysOnlyTwoDimensionalTensors() {
        NetworkSpec spec = NetworkSpec.input(1, 6, 6).add(new dev.salvo.nn.layer.Conv2d(2, 3, 1, 1, true))
                .add(new dev.salvo.nn.layer.BatchNorm(1e-5, 0.1)).add(new dev.salvo.nn.layer.Flatten()).dense(3).build();
        List<int[]> runs = OptimizerUpdate.decayRuns(ParamLayout.of(spec), DecayPolicy.MATRICES);
        ParamLayout layout = ParamLayout.of(spec);
        for (ParamLayout.Tensor t : layout.tensors()) {
            int[] run = null;
            for (int[] r : runs) {
                if (r[0] <= t.offset()) {
                    run = r;
                }
            }
            assertEquals(t.shape().length >= 2, run[1] != 0, t.name() + " " + java.util.Arrays.toString(t.shape()));
        }
        assertEquals(1, OptimizerUpdate.decayRuns(layout, DecayPolicy.ALL).size(), "ALL: one update");
        // the decay actually applied: against the same SGD steps without weight decay, the tensors
        // MATRICES spares come out bitwise the same (d = g + 0 w = g), the matrices do not
        // (one step: after it every tensor's gradient depends on the decayed ones)
        Dataset data = Check.clusters("decay", 32, 36, 3, 5);
        TrainConfig cfg = TrainConfig.defaults().withOptimizer(new Optimizer.Sgd(0, false, 0.5)).withLearningRate(0.05)
                .withBatchSize(32).withEpochs(1).withDecay(DecayPolicy.MATRICES);
        float[] decayed = train(spec, data, cfg);
        float[] plain = train(spec, data, cfg.withOptimizer(new Optimizer.Sgd(0, false, 0)));
        for (ParamLayout.Tensor tn : layout.tensors()) {
            float[] a = java.util.Arrays.copyOfRange(decayed, tn.offset(), tn.offset() + tn.length());
            float[] b = java.util.Arrays.copyOfRange(plain, tn.offset(), tn.offset() + tn.length());
            assertEquals(tn.shape().length < 2, java.util.Arrays.equals(a, b), tn.name() + " decayed iff 2-D or more");
        }
    }

    /** With clipping (biting) and MATRICES, 50 steps + checkpoint + resume + 50 steps is bitwise 100 straight steps. */
    @Test
    void resumeWithClippingIsBitwise(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
        TrainConfig cfg = CheckpointTest.config(Optimizer.adamW(0.1)).withClipNorm(0.3).withDecay(DecayPolicy.MATRICES);
        List<Double> straightNorms = new ArrayList<>();
        float[] straight = resumeRun(cfg, null, 100, null, straightNorms);
        List<Double> first = new ArrayList<>();
        resumeRun(cfg, dir, 50, null, first);
        Checkpoint.Snapshot snap = Checkpoint.load(dir);
        List<Double> second = new ArrayList<>();
        float[] resumed = resumeRun(cfg, null, 100, snap, second);
        assertArrayEquals(straight, resumed, "parameters after 50 + resume + 50 steps");
        List<Double> joined = new ArrayList<>(first);
        joined.addAll(second);
        assertEquals(straightNorms, joined, "per-step gradient norms");
        assertTrue(straightNorms.stream().anyMatch(x -> x > 0.3), "the clip bites: " + straightNorms);
    }

    private static float[] resumeRun(TrainConfig cfg, java.nio.file.Path dir, long stop, Checkpoint.Snapshot resume, List<Double> norms) {
        try (Device d = cpu(); Model m = new Model(d, CheckpointTest.NET, 5, 8); Trainer t = new Trainer(m, cfg)) {
            if (resume != null) {
                t.resume(resume);
            }
            Checkpoint.Policy policy = dir == null ? null : new Checkpoint.Policy(dir, (int) stop, false);
            try {
                t.fit(CheckpointTest.DATA, null, new TrainListener() {
                    @Override
                    public void onGradNorm(long step, double norm) {
                        norms.add(norm);
                    }

                    @Override
                    public void onCheckpoint(java.nio.file.Path file, long step) {
                        if (step == stop) {
                            throw new CheckpointTest.StopHere();
                        }
                    }
                }, policy);
            } catch (CheckpointTest.StopHere e) {
                // the first process ends here
            }
            return m.parametersToHost();
        }
    }

    @Test
    void networkJsonCarriesTheDecayPolicy() {
        NetworkSpec spec = NetworkSpec.input(4).dense(3).decay(DecayPolicy.MATRICES).build();
        assertEquals(DecayPolicy.MATRICES, spec.decay());
        String json = NetworkJson.write(spec);
        assertTrue(json.contains("\"decay\":\"matrices\""), json);
        assertEquals(DecayPolicy.MATRICES, NetworkJson.parse(json).decay());
        assertEquals(DecayPolicy.ALL, NetworkJson.parse(NetworkJson.write(NetworkSpec.input(4).dense(3).build())).decay());
        assertTrue(!NetworkJson.write(NetworkSpec.input(4).dense(3).build()).contains("decay"));
        NetworkSpec.Invalid e = assertThrows(NetworkSpec.Invalid.class,
                () -> NetworkJson.parse("{\"input\": [4], \"layers\": [{\"type\": \"dense\", \"units\": 3}], \"decay\": \"some\"}"));
        assertTrue(e.getMessage().contains("decay"), e.getMessage());
    }

    @Test
    void clipNormIsValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withClipNorm(-1));
        assertTrue(e.getMessage().startsWith("--clip-norm"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withClipNorm(Double.NaN));
    }
}
