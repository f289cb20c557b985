package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.io.AtomicFile;
import dev.salvo.train.Checkpoint;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nothing is lost: writers refuse what is not a regular file and follow links, every output path is
 * checked before training starts, and a new run never silently replaces an older one.
 */
class OutputSafetyCliTest {

    @TempDir
    Path dir;

    private static void mkfifo(Path p) throws Exception {
        Process pr = new ProcessBuilder("mkfifo", p.toString()).start();
        assertTrue(pr.waitFor(30, TimeUnit.SECONDS) && pr.exitValue() == 0, "mkfifo");
    }

    /** rc 2, one line naming {@code option}, and training never started (no data line, no epoch). */
    private static void refusedBeforeTraining(CliTest.Result r, String option, String reason) {
        assertEquals(2, r.code(), r.out() + r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        assertTrue(msg.contains(option) && msg.contains(reason), msg);
        assertFalse(r.out().contains("data:") || r.out().contains("epoch"), "failed before any work: " + r.out());
        assertFalse(msg.contains("Exception") || msg.contains("\tat "), "no stack trace: " + msg);
    }

    private List<String> tempFiles() throws Exception {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".tmp")).toList();
        }
    }

    @Test
    void saveRefusesAFifoADirectoryAndAPlaceWithoutFiles() throws Exception {
        Path fifo = dir.resolve("pipe");
        mkfifo(fifo);
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("r1").toString(),
                "--save", fifo.toString()), "--save", "a FIFO, not a regular file");
        assertEquals("a FIFO", AtomicFile.kindOf(fifo), "the FIFO is untouched");
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--save", dir.toString()),
                "--save", "a directory");
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--save", "/proc/x"),
                "--save /proc/x", "no such file or directory");
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--checkpoint-dir", "/sys/salvo-ckpt"),
                "--checkpoint-dir /sys/salvo-ckpt", "cannot write there");
        Path file = Files.writeString(dir.resolve("plain"), "x");
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", file.resolve("run").toString()),
                "--out", "not a directory");
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", file.toString()),
                "--out", "not a directory");
        // a FIFO where the run folder or the checkpoint directory would put a file
        Path runWithFifo = Files.createDirectories(dir.resolve("r2"));
        mkfifo(runWithFifo.resolve("metrics.csv"));
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", runWithFifo.toString(),
                "--overwrite"), "--out", "a FIFO, not a regular file");
        Path ckWithFifo = Files.createDirectories(dir.resolve("ck2"));
        mkfifo(ckWithFifo.resolve(Checkpoint.FILE));
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("r3").toString(),
                "--checkpoint-dir", ckWithFifo.toString(), "--overwrite"), "--checkpoint-dir", "a FIFO, not a regular file");
        assertEquals(List.of(), tempFiles());
    }

    @Test
    void saveWritesThroughASymbolicLink() throws Exception {
        Path real = dir.resolve("models/real.safetensors");
        Files.createDirectories(real.getParent());
        Path link = Files.createSymbolicLink(dir.resolve("latest.safetensors"), real);
        CliTest.Result r = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("run").toString(),
                "--save", link.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.isSymbolicLink(link), "the link stays a link");
        assertTrue(Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS) && Files.size(real) > 1000);
    }

    @Test
    void otherWritersRefuseFifosAndDirectoriesBeforeWorking() throws Exception {
        CliTest.Result train = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("run").toString());
        assertEquals(0, train.code(), train.err());
        Path model = dir.resolve("run/model.safetensors");
        Path fifo = dir.resolve("pipe");
        mkfifo(fifo);
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "0".repeat(1) + ",1".repeat(63) + "\n");
        for (String[] args : List.of(
                new String[] {"--output", "predict", "--model", model.toString(), "--input", csv.toString(), "--output", fifo.toString()},
                new String[] {"--output", "predict", "--model", model.toString(), "--input", csv.toString(), "--output", dir.toString()},
                new String[] {"--output", "plot", dir.resolve("run").toString(), "-o", fifo.toString()},
                new String[] {"--json", "check", "--device", "cpu", "--json", fifo.toString()},
                new String[] {"--out", "bench", "--quick", "--no-reference", "--device", "cpu", "--out", fifo.toString()},
                new String[] {"--out", "tune", "--device", "opencl", "--out", fifo.toString()})) {
            String option = args[0];
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
            CliTest.Result r = CliTest.run(args);
            String cmd = String.join(" ", args);
            assertEquals(2, r.code(), cmd + ": " + r.out() + r.err());
            assertTrue(r.err().contains(option + " "), cmd + ": names " + option + ": " + r.err());
            assertEquals(1, r.err().strip().lines().count(), cmd + ": one line: " + r.err());
            assertFalse(r.err().contains("\tat "), cmd + ": no stack trace: " + r.err());
            assertEquals("a FIFO", AtomicFile.kindOf(fifo), cmd + " left the FIFO alone");
        }
        // through a link, predict --output replaces the link's target and keeps the link
        Path real = dir.resolve("predictions.csv");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("out.csv"), real);
        CliTest.Result p = CliTest.run("predict", "--model", model.toString(), "--input", csv.toString(), "--output", link.toString());
        assertEquals(0, p.code(), p.err());
        assertTrue(Files.isSymbolicLink(link));
        assertFalse(Files.readString(real).equals("old"));
        assertEquals(List.of(), tempFiles());
    }

    @Test
    void anExistingRunFolderOrCheckpointIsNotReplacedWithoutOverwrite() throws Exception {
        Path run = dir.resolve("run");
        Path ckpt = dir.resolve("ckpt");
        CliTest.Result first = CliTest.run("train", "--no-progress", "--epochs", "3", "--out", run.toString(),
                "--checkpoint-dir", ckpt.toString());
        assertEquals(0, first.code(), first.err());
        byte[] model = Files.readAllBytes(run.resolve("model.safetensors"));
        byte[] checkpoint = Files.readAllBytes(ckpt.resolve(Checkpoint.FILE));

        CliTest.Result again = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", run.toString());
        refusedBeforeTraining(again, "--out", "already holds a run");
        CliTest.Result ck = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("other").toString(),
                "--checkpoint-dir", ckpt.toString());
        refusedBeforeTraining(ck, "--checkpoint-dir", "already holds a checkpoint at epoch 3");
        assertTrue(java.util.Arrays.equals(model, Files.readAllBytes(run.resolve("model.safetensors"))), "the model is kept");
        assertTrue(java.util.Arrays.equals(checkpoint, Files.readAllBytes(ckpt.resolve(Checkpoint.FILE))), "the checkpoint is kept");
        Path saved = dir.resolve("m.safetensors");
        Files.write(saved, model);
        refusedBeforeTraining(CliTest.run("train", "--no-progress", "--epochs", "1", "--out", dir.resolve("o2").toString(),
                "--save", saved.toString()), "--save", "already exists");

        // an empty folder, or one with other files, is fine as a run folder
        Path mine = Files.createDirectories(dir.resolve("mine"));
        Files.writeString(mine.resolve("notes.txt"), "keep me");
        CliTest.Result ok = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", mine.toString());
        assertEquals(0, ok.code(), ok.err());
        assertEquals("keep me", Files.readString(mine.resolve("notes.txt")));

        // --overwrite replaces them
        CliTest.Result over = CliTest.run("train", "--no-progress", "--epochs", "1", "--out", run.toString(),
                "--checkpoint-dir", ckpt.toString(), "--save", saved.toString(), "--overwrite");
        assertEquals(0, over.code(), over.err());
        assertEquals(2, Files.readAllLines(run.resolve("metrics.csv")).size());
        assertEquals(1, Checkpoint.load(ckpt).history().size());
    }

    @Test
    void resumingAnOlderCheckpointDoesNotReplaceALaterOne() throws Exception {
        Path early = dir.resolve("early");
        Path late = dir.resolve("late");
        assertEquals(0, CliTest.run("train", "--no-progress", "--epochs", "2", "--out", dir.resolve("r1").toString(),
                "--checkpoint-dir", early.toString()).code());
        assertEquals(0, CliTest.run("train", "--no-progress", "--epochs", "6", "--out", dir.resolve("r2").toString(),
                "--checkpoint-dir", late.toString()).code());
        long lateStep = Checkpoint.load(late).step();
        CliTest.Result r = CliTest.run("train", "--no-progress", "--resume", early.toString(), "--epochs", "4",
                "--checkpoint-dir", late.toString(), "--out", dir.resolve("r3").toString());
        refusedBeforeTraining(r, "--checkpoint-dir", "later than the step");
        assertEquals(lateStep, Checkpoint.load(late).step(), "the later checkpoint is kept");
    }

    @Test
    void checkpointEveryNStepsEndsWithAFinalCheckpoint() throws Exception {
        Path ckpt = dir.resolve("ckpt");
        // digits: 1293 training rows, 41 steps per epoch of 32; 2 epochs = 82 steps, not a multiple of 25
        CliTest.Result r = CliTest.run("train", "--no-progress", "--epochs", "2", "--out", dir.resolve("run").toString(),
                "--checkpoint-dir", ckpt.toString(), "--checkpoint-every", "25");
        assertEquals(0, r.code(), r.err());
        Checkpoint.Snapshot s = Checkpoint.load(ckpt);
        assertEquals(82, s.step());
        assertEquals(2, s.epoch());
        assertEquals(2, s.history().size());
    }
}
