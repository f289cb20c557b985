package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.data.TextCorpus;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.Gpt;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A GPT trained on text windows and stopped at a checkpoint mid-epoch resumes bitwise: the same
 * parameters, optimizer state and per-step losses as a run that never stopped (the epoch's window
 * starts, drawn from the shuffle RNG, are in the checkpoint; clipping and matrices-only decay on).
 */
class TextResumeTest {

    private static final int T = 16;

    static TextWindows windows(TextCorpus corpus) {
        return new TextWindows(corpus.name(), corpus.tokens(), corpus.trainLength(), corpus.vocabulary().size(), T, 12, 30, 20);
    }

    static float[] run(Device d, NetworkSpec net, TextWindows text, Path dir, long stop, Checkpoint.Snapshot resume,
                       List<Double> losses) {
        TrainConfig config = new TrainConfig(Optimizer.adamW(0.1), 3e-3, new Schedule.Cosine(0.1, 5), 4, text.epochs(), 7, 4, 0,
                TrainConfig.ResidentData.ON, 1.0, null);
        try (Model m = new Model(d, net, 7, 8); Trainer t = new Trainer(m, config)) {
            if (resume != null) {
                t.resume(resume);
            }
            Checkpoint.Policy policy = dir == null ? null : new Checkpoint.Policy(dir, (int) stop, false);
            try {
                t.fit(text, new TrainListener() {
                    @Override
                    public void onLoss(long step, double loss) {
                        losses.add(loss);
                    }

                    @Override
                    public void onCheckpoint(Path file, long step) {
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
    void aTextRunResumesBitwiseMidEpoch(@TempDir Path dir) {
        TextCorpus corpus = TextCorpus.of("genesis", java.util.Arrays.copyOf(TextCorpus.genesis(), 20_000), T, 0.1);
        TextWindows text = windows(corpus);
        NetworkSpec net = Gpt.spec(1, 2, 16, T, corpus.vocabulary().size());
        try (Device d = CpuProvider.open(CpuSettings.load())) {
            List<Double> straightLoss = new ArrayList<>();
            float[] straight = run(d, net, text, null, 30, null, straightLoss);
            List<Double> firstLoss = new ArrayList<>();
            run(d, net, text, dir, 17, null, firstLoss); // step 17: inside the second epoch of 12 steps
            Checkpoint.Snapshot snap = Checkpoint.load(dir);
            assertEquals(17, snap.step());
            List<Double> secondLoss = new ArrayList<>();
            float[] resumed = run(d, net, text, null, 30, snap, secondLoss);
            assertArrayEquals(straight, resumed, "parameters after 17 + resume + 13 steps");
            List<Double> joined = new ArrayList<>(firstLoss);
            joined.addAll(secondLoss);
            assertEquals(straightLoss, joined, "per-step losses");
            assertEquals(30, straightLoss.size());
        }
    }
}
