package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.io.ModelFile;
import dev.salvo.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The rule of {@code --resume}: the run's options come from its checkpoint (one line says so);
 * given again they must be equal, else exit 2; {@code --epochs} may be raised; the resumed run's
 * metrics.csv and summary.json hold the whole history; a finished checkpoint has nothing to do.
 */
class ResumeRulesCliTest {

    @TempDir
    Path dir;

    private static final String[] BASE = {"train", "--no-progress", "--lr", "0.002", "--optimizer", "momentum",
        "--layers", "64,32,10", "--seed", "5"};

    private static String[] args(String... more) {
        List<String> a = new ArrayList<>(Arrays.asList(BASE));
        a.addAll(Arrays.asList(more));
        return a.toArray(new String[0]);
    }

    private static void rejected(CliTest.Result r, String option) {
        assertEquals(2, r.code(), r.out() + r.err());
        String m = r.err().strip();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.contains("--resume") && m.contains(option) && m.contains("differs from the checkpoint"), m);
        assertFalse(r.out().contains("epoch "), "nothing trained: " + r.out());
    }

    @Test
    void changedOptionsAreRejectedAndOmittedOnesRestored() throws Exception {
        Path ckpt = dir.resolve("ckpt");
        Path run = dir.resolve("run");
        CliTest.Result first = CliTest.run(args("--epochs", "2", "--out", run.toString(), "--checkpoint-dir", ckpt.toString()));
        assertEquals(0, first.code(), first.err());
        byte[] before = Files.readAllBytes(ckpt.resolve(Checkpoint.FILE));

        // a different batch size used to train every resumed epoch at learning rate 0 and exit 0
        rejected(CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3", "-b", "64"), "--batch-size");
        rejected(CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3", "--seed", "6"), "--seed");
        rejected(CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3", "--lr", "0.01"), "--lr");
        rejected(CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3", "--layers", "64,16,10"),
                "--layers");
        assertTrue(Arrays.equals(before, Files.readAllBytes(ckpt.resolve(Checkpoint.FILE))), "the checkpoint is untouched");

        // the same values given again are fine (3e-3 == 0.003: values, not spellings, are compared)
        CliTest.Result r = CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "4", "--lr", "2e-3",
                "-b", "32", "--seed", "5");
        assertEquals(0, r.code(), r.err());
        String line = r.out().lines().filter(l -> l.startsWith("resume:")).findFirst().orElseThrow();
        assertTrue(line.contains("after epoch 2, step 82") && line.contains("options restored")
                && line.contains("--optimizer momentum") && line.contains("--layers 64,32,10"), line);
        assertTrue(r.out().contains("train:  momentum"), "the restored optimizer is used: " + r.out());
        assertTrue(r.out().contains("run:    " + run.toAbsolutePath() + " (continued)"), r.out());

        // the whole history in the continued run folder, steps as the checkpoint counts them
        List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(5, metrics.size(), metrics.toString());
        for (int e = 1; e <= 4; e++) {
            assertTrue(metrics.get(e).startsWith(e + "," + (41 * e) + ","), metrics.toString());
        }
        JsonNode summary = new ObjectMapper().readTree(run.resolve("summary.json").toFile());
        assertEquals(4, summary.get("history").size());
        assertEquals(4, summary.get("epochs_run").asInt());
        assertEquals(164, Checkpoint.load(ckpt).step(), "a resumed run checkpoints where it came from");
        assertEquals("4", ModelFile.load(run.resolve("model.safetensors")).metadata().get("epochs"));

        // finished: nothing to do, and nothing about plots
        CliTest.Result done = CliTest.run("train", "--no-progress", "--resume", ckpt.toString());
        assertEquals(0, done.code(), done.err());
        assertTrue(done.out().startsWith("nothing to do: the checkpoint"), done.out());
        assertFalse(done.out().contains("java.desktop") || done.err().contains("java.desktop"), done.out());
        assertEquals(5, Files.readAllLines(run.resolve("metrics.csv")).size(), "the run folder is untouched");
    }

    @Test
    void resumedTrainingEqualsAStraightRunBitForBit() throws Exception {
        Path straight = dir.resolve("straight");
        assertEquals(0, CliTest.run(args("--epochs", "4", "--schedule", "constant", "--out", straight.toString())).code());
        Path ckpt = dir.resolve("ckpt");
        Path run = dir.resolve("run");
        assertEquals(0, CliTest.run(args("--epochs", "2", "--schedule", "constant", "--out", run.toString(),
                "--checkpoint-dir", ckpt.toString())).code());
        CliTest.Result r = CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "4");
        assertEquals(0, r.code(), r.err());
        float[] a = ModelFile.load(straight.resolve("model.safetensors")).parameters();
        float[] b = ModelFile.load(run.resolve("model.safetensors")).parameters();
        assertTrue(Arrays.equals(a, b), "2 epochs + resume + 2 epochs = 4 epochs, bit for bit");
        List<String> m1 = Files.readAllLines(straight.resolve("metrics.csv"));
        List<String> m2 = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(m1.size(), m2.size());
        for (int i = 1; i < m1.size(); i++) { // epoch, step, train and validation loss and accuracy, rate agree
            assertEquals(String.join(",", Arrays.copyOf(m1.get(i).split(","), 6)),
                    String.join(",", Arrays.copyOf(m2.get(i).split(","), 6)));
        }
    }

    @Test
    void raisingEpochsContinuesTheStepCountAndTheDataIsChecked() throws Exception {
        Path csv = dir.resolve("d.csv");
        StringBuilder sb = new StringBuilder("a,b,c,label\n");
        java.util.Random rnd = new java.util.Random(3);
        for (int i = 0; i < 300; i++) {
            int y = i % 3;
            sb.append(y + rnd.nextGaussian() * 0.3).append(',').append(-y + rnd.nextGaussian() * 0.3).append(',')
                    .append(rnd.nextGaussian()).append(',').append(y).append('\n');
        }
        Files.writeString(csv, sb);
        Path ckpt = dir.resolve("ckpt");
        Path run = dir.resolve("run");
        CliTest.Result first = CliTest.run("train", "--no-progress", "--data", "csv:" + csv, "--epochs", "2", "--out",
                run.toString(), "--checkpoint-dir", ckpt.toString(), "--schedule", "constant");
        assertEquals(0, first.code(), first.err());
        long step = Checkpoint.load(ckpt).step();

        // the data changed under the checkpoint: refused
        Files.writeString(csv, sb.toString().replace("\n1.", "\n1.5"));
        CliTest.Result changed = CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3");
        assertEquals(2, changed.code(), changed.out() + changed.err());
        assertTrue(changed.err().contains("differ from those the checkpoint was trained on"), changed.err());

        Files.writeString(csv, sb);
        CliTest.Result more = CliTest.run("train", "--no-progress", "--resume", ckpt.toString(), "--epochs", "3");
        assertEquals(0, more.code(), more.err());
        assertEquals(step * 3 / 2, Checkpoint.load(ckpt).step());
        assertEquals(4, Files.readAllLines(run.resolve("metrics.csv")).size());
    }
}
