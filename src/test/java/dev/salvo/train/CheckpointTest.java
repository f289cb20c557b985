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
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints: 100 steps straight and 50 + resume + 50 give bitwise identical parameters. */
class CheckpointTest {

    static final NetworkSpec NET = NetworkSpec.input(20).dense(32, Activation.GELU).dense(5).build();

    /** 100 rows, batch 8: 13 steps per epoch (the last one partial), so step 50 falls inside an epoch. */
    static final Dataset DATA = Check.clusters("ckpt", 100, 20, 5, 3);

    static TrainConfig config(Optimizer o) {
        return TrainConfig.defaults().withOptimizer(o).withBatchSize(8).withEpochs(8).withLearningRate(0.01)
                .withSchedule(new Schedule.Cosine(0.1, 10)).withSeed(5).withLossEvery(3);
    }

    /** Trains until global step {@code stop} (or the end), checkpointing at {@code stop}; returns the parameters. */
    static float[] run(Device d, Optimizer o, Path dir, long stop, Checkpoint.Snapshot resume, List<Double> losses) {
        return run(d, NET, o, dir, stop, resume, losses);
    }

    /** As above for {@code net}; returns the parameters followed by the state (running statistics). */
    static float[] run(Device d, NetworkSpec net, Optimizer o, Path dir, long stop, Checkpoint.Snapshot resume, List<Double> losses) {
        try (Model m = new Model(d, net, 5, 8); Trainer t = new Trainer(m, config(o))) {
            if (resume != null) {
                t.resume(resume);
            }
            Checkpoint.Policy policy = dir == null ? null : new Checkpoint.Policy(dir, (int) stop, false);
            try {
                t.fit(DATA, null, new TrainListener() {
                    @Override
                    public void onLoss(long step, double loss) {
                        losses.add(loss);
                    }

                    @Override
                    public void onCheckpoint(Path file, long step) {
                        if (step == stop) {
                            throw new StopHere();
                        }
                    }
                }, policy);
            } catch (StopHere e) {
                // simulated end of the first process
            }
            float[] p = m.parametersToHost();
            float[] st = m.stateToHost();
            float[] both = java.util.Arrays.copyOf(p, p.length + st.length);
            System.arraycopy(st, 0, both, p.length, st.length);
            return both;
        }
    }

    static final class StopHere extends RuntimeException {
    }

    @Test
    void resumeIsBitwiseIdenticalToAStraightRun(@TempDir Path dir) {
        for (Optimizer o : List.of(Optimizer.adamW(0.01), new Optimizer.Sgd(0.9, true, 1e-4))) {
            try (Device d = CpuProvider.open(CpuSettings.load())) {
                List<Double> straightLoss = new ArrayList<>();
                float[] straight = run(d, o, null, 100, null, straightLoss);
                List<Double> firstLoss = new ArrayList<>();
                run(d, o, dir, 50, null, firstLoss);
                Checkpoint.Snapshot snap = Checkpoint.load(dir);
                assertEquals(50, snap.step());
                List<Double> secondLoss = new ArrayList<>();
                float[] resumed = run(d, o, null, 100, snap, secondLoss);
                assertArrayEquals(straight, resumed, o.describe() + ": parameters after 50 + resume + 50 steps (all 8 epochs)");
                List<Double> joined = new ArrayList<>(firstLoss);
                joined.addAll(secondLoss);
                assertEquals(straightLoss, joined, "per-step losses");
            }
        }
    }

    /** A CNN with batch norm (running statistics in the checkpoint) and dropout (its mask from the global step). */
    @Test
    void aCnnWithBatchNormAndDropoutResumesBitwise(@TempDir Path dir) {
        NetworkSpec cnn = NetworkSpec.of(new int[] {1, 4, 5}, dev.salvo.nn.Layers.conv2d(4, 3).pad(1), dev.salvo.nn.Layers.batchNorm(),
                dev.salvo.nn.Layers.relu(), dev.salvo.nn.Layers.dropout(0.3), dev.salvo.nn.Layers.flatten(), dev.salvo.nn.Layers.dense(5));
        try (Device d = CpuProvider.open(CpuSettings.load())) {
            Optimizer o = Optimizer.adamW(0.01);
            List<Double> straightLoss = new ArrayList<>();
            float[] straight = run(d, cnn, o, null, 100, null, straightLoss);
            List<Double> firstLoss = new ArrayList<>();
            run(d, cnn, o, dir, 50, null, firstLoss);
            Checkpoint.Snapshot snap = Checkpoint.load(dir);
            assertTrue(snap.modelState().length > 0, "the checkpoint holds the running statistics");
            List<Double> secondLoss = new ArrayList<>();
            float[] resumed = run(d, cnn, o, null, 100, snap, secondLoss);
            assertArrayEquals(straight, resumed, "parameters and running statistics after 50 + resume + 50 steps");
            List<Double> joined = new ArrayList<>(firstLoss);
            joined.addAll(secondLoss);
            assertEquals(straightLoss, joined, "per-step losses");
        }
    }

    @Test
    void aCheckpointOfAnotherNetworkIsRefused(@TempDir Path dir) {
        try (Device d = CpuProvider.open(CpuSettings.load())) {
            run(d, Optimizer.adam(), dir, 20, null, new ArrayList<>());
            Checkpoint.Snapshot snap = Checkpoint.load(dir);
            NetworkSpec other = NetworkSpec.input(20).dense(16, Activation.RELU).dense(5).build();
            try (Model m = new Model(d, other, 5, 8); Trainer t = new Trainer(m, config(Optimizer.adam()))) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.resume(snap));
                assertTrue(e.getMessage().contains("--resume"), e.getMessage());
            }
        }
    }

    @Test
    void aDamagedCheckpointIsAClearError(@TempDir Path dir) throws IOException {
        try (Device d = CpuProvider.open(CpuSettings.load())) {
            run(d, Optimizer.adam(), dir, 20, null, new ArrayList<>());
        }
        Path f = dir.resolve(Checkpoint.FILE);
        byte[] b = Files.readAllBytes(f);
        Files.write(f, java.util.Arrays.copyOf(b, b.length / 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        b[0] = 'X';
        Files.write(f, b);
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(dir));
    }
}
