package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.data.Digits;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainerTest {

    private static Device cpu() {
        return CpuProvider.open(CpuSettings.load());
    }

    @Test
    void divergenceNamesStepAndLayerAndKeepsTheLastGoodWeights() {
        NetworkSpec spec = NetworkSpec.input(20).dense(32, Activation.RELU).dense(5).build();
        Dataset data = Check.clusters("diverge", 800, 20, 5, 1);
        TrainConfig cfg = TrainConfig.defaults().withOptimizer(new Optimizer.Sgd(0.9, false, 0)).withLearningRate(1e4)
                .withBatchSize(16).withEpochs(5);
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 16); Trainer t = new Trainer(m, cfg)) {
            List<float[]> after = new ArrayList<>();
            TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> t.fit(data, null, new TrainListener() {
                @Override
                public void onStep(int epoch, long step, int rows) {
                    after.add(m.parametersToHost()); // test-only: snapshot after each step
                }
            }));
            assertTrue(e.getMessage().contains("epoch " + e.epoch()), e.getMessage());
            assertTrue(e.where().startsWith("layer ") || e.where().startsWith("the loss"), e.where());
            float[] now = m.parametersToHost();
            for (float v : now) {
                assertTrue(Float.isFinite(v), "parameters stay finite");
            }
            // the weights are those after the last step whose loss was finite
            int lastGood = (int) e.step() - 2;
            assertTrue(lastGood >= 0, "diverged on the first step: " + e.getMessage());
            assertArrayEquals(after.get(lastGood), now, "weights from before the failing step");
        }
    }

    @Test
    void aStopRequestFromAnotherThreadIsNeverLost() throws Exception {
        // a signal handler calls requestStop on its own thread, most often while a step is running;
        // whenever it lands, the fit ends interrupted soon after and long before its last epoch
        NetworkSpec spec = NetworkSpec.input(64).dense(256, Activation.RELU).dense(256, Activation.RELU).dense(10).build();
        Dataset data = Check.clusters("stop", 2048, 64, 10, 4);
        TrainConfig cfg = TrainConfig.defaults().withBatchSize(64).withEpochs(100_000); // hours: only a stop ends it
        for (int trial = 0; trial < 12; trial++) {
            try (Device d = cpu(); Model m = new Model(d, spec, 1, 64); Trainer t = new Trainer(m, cfg)) {
                java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(1);
                long wait = trial * 200_000L; // 0 to 2.2 ms after a step was reported: inside later steps
                Thread signal = new Thread(() -> {
                    try {
                        started.await();
                        long until = System.nanoTime() + wait;
                        while (System.nanoTime() < until) {
                            Thread.onSpinWait();
                        }
                        t.requestStop();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                signal.start();
                long[] lastStep = {0};
                History h = t.fit(data, null, new TrainListener() {
                    @Override
                    public void onStep(int epoch, long step, int rows) {
                        lastStep[0] = step;
                        if (step == 3) {
                            started.countDown();
                        }
                    }
                });
                signal.join();
                assertTrue(h.interrupted(), "trial " + trial + ": the request was lost; ran " + h.steps() + " steps");
                assertTrue(h.steps() < 32L * 100_000, "trial " + trial + ": stopped before the end");
                assertEquals(h.steps() - 1, lastStep[0], "trial " + trial + ": the last step reported is the last one run");
            }
        }
    }

    @Test
    void earlyStoppingRestoresTheBestEpoch() {
        NetworkSpec spec = NetworkSpec.input(20).dense(64, Activation.RELU).dense(5).build();
        // random labels: nothing to learn, so the validation loss rises once the net starts memorising
        Dataset clusters = Check.clusters("early", 300, 20, 5, 2);
        dev.salvo.util.Rng rng = new dev.salvo.util.Rng(5);
        int[] labels = new int[300];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = rng.nextInt(5);
        }
        Dataset all = new Dataset("noise", clusters.features(), labels, 300, 20, 5);
        Dataset.Split s = all.stratifiedSplit(0.3, 3, "train", "val");
        TrainConfig cfg = TrainConfig.defaults().withLearningRate(0.05).withEpochs(60).withPatience(2).withBatchSize(8);
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 8); Trainer t = new Trainer(m, cfg)) {
            History h = t.fit(s.first(), s.second(), TrainListener.NONE);
            assertTrue(h.stoppedEarly(), "stopped early: " + h.epochs().size() + " epochs");
            EpochStats best = h.epochs().get(h.bestEpoch() - 1);
            assertEquals(best.valLoss(), t.evaluate(s.second()).loss(), 1e-6, "the model holds the best epoch's weights");
        }
    }

    @Test
    void schedules() {
        Schedule c = new Schedule.Cosine(0.1, 10);
        assertEquals(0.1, c.lr(1, 0, 110, 0), 1e-12);
        assertEquals(1.0, c.lr(1, 9, 110, 0), 1e-12);
        assertEquals(1.0, c.lr(1, 10, 110, 0), 1e-12);
        assertEquals(0.1, c.lr(1, 109, 110, 0), 1e-12);
        assertEquals(0.1 + 0.45 * (1 + Math.cos(Math.PI * 49 / 99)), c.lr(1, 59, 110, 0), 1e-12);
        Schedule st = new Schedule.Step(2, 0.5, 0);
        assertEquals(1.0, st.lr(1, 5, 100, 1), 0);
        assertEquals(0.25, st.lr(1, 50, 100, 4), 0);
        assertEquals(0.3, new Schedule.Constant(0).lr(0.3, 77, 100, 3), 0);
    }

    @Test
    void optionsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Optimizer.parse("rmsprop", null, null));
        assertThrows(IllegalArgumentException.class, () -> Optimizer.parse("nesterov", 0.0, null));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withLearningRate(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withLearningRate(-1));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withBatchSize(0));
        assertThrows(IllegalArgumentException.class, () -> TrainConfig.defaults().withEpochs(0));
        assertEquals(0.01, Optimizer.parse("adamw", null, null).weightDecay());
    }

    @Test
    void dataThatDoesNotFitTheNetworkIsRejected() {
        NetworkSpec spec = NetworkSpec.input(10).dense(5).build();
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 4); Trainer t = new Trainer(m, TrainConfig.defaults().withBatchSize(4))) {
            Dataset wide = Check.clusters("wide", 20, 12, 5, 1);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.fit(wide, null, TrainListener.NONE));
            assertTrue(e.getMessage().contains("12 features"), e.getMessage());
        }
    }

    @Test
    void emptyAndOneClassDataAreRejected() {
        NetworkSpec spec = NetworkSpec.input(4).dense(3).build();
        try (Device d = cpu(); Model m = new Model(d, spec, 1, 4); Trainer t = new Trainer(m, TrainConfig.defaults().withBatchSize(4))) {
            Dataset empty = new Dataset("empty", new float[0], new int[0], 0, 4, 3);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> t.fit(empty, null, TrainListener.NONE))
                    .getMessage().contains("empty"));
            Dataset one = new Dataset("one", new float[8], new int[] {2, 2}, 2, 4, 3);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> t.fit(one, null, TrainListener.NONE))
                    .getMessage().contains("same label"));
        }
    }

    @Test
    void initialWeightsArePinnedForASeed() {
        // the host RNG is ours (xoshiro256** + StrictMath), so these never change across JDKs or devices
        NetworkSpec spec = NetworkSpec.input(64).dense(128, Activation.RELU).dense(64, Activation.RELU).dense(10).build();
        float[] p = Model.initialParameters(spec, 1);
        assertEquals("6ed32196f61a8365", dev.salvo.nn.ParamLayout.of(spec).sha256(p).substring(0, 16));
    }

    @Test
    void digitsSplitIsFixedAndStratified() {
        Dataset.Split s = Digits.trainTest();
        assertEquals(1797, s.first().rows() + s.second().rows());
        assertEquals(359, s.second().rows());
        assertEquals(10, s.second().distinctLabels());
        assertEquals(s.second(), Digits.trainTest().second());
    }
}
