package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model's life from the command line: train writes a run folder, eval, predict, plot, resume. */
class RunCliTest {

    @Test
    void trainWritesTheRunFolderAndTheModelWorksInEvalAndPredict(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Path saved = dir.resolve("digits.safetensors");
        CliTest.Result r = CliTest.run("train", "--epochs", "3", "--no-progress", "--out", run.toString(), "--save", saved.toString(),
                "--normalize", "standardize");
        assertEquals(0, r.code(), r.out() + r.err());
        for (String f : List.of("metrics.csv", "summary.json", "model.safetensors")) {
            assertTrue(Files.isRegularFile(run.resolve(f)), f + " in " + run);
        }
        List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(4, metrics.size(), metrics.toString());
        assertTrue(metrics.get(3).startsWith("3,"), metrics.toString());
        assertTrue(Files.isRegularFile(run.resolve("curves.png")) || r.out().contains("curves.png skipped"));
        String acc = r.out().replaceAll("(?s).*test accuracy ([0-9.]+)%.*", "$1");

        CliTest.Result e = CliTest.run("eval", "--model", saved.toString(), "--device", "reference");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("accuracy " + acc + "%"), "eval on another device: " + e.out() + " vs " + acc);
        assertTrue(e.out().contains("confusion matrix") && e.out().contains("precision"), e.out());

        Path csv = dir.resolve("x.csv");
        CliTest.featureRows(csv, 3);
        CliTest.Result p = CliTest.run("predict", "--model", saved.toString(), "--input", csv.toString(), "--format", "json");
        assertEquals(0, p.code(), p.err());
        assertEquals(3, p.out().split("\"class\"").length - 1, p.out());

        CliTest.Result plot = CliTest.run("plot", run.toString(), run.toString(), "-o", dir.resolve("cmp.png").toString());
        if (dev.salvo.train.RunFolder.plottingAvailable()) {
            assertEquals(0, plot.code(), plot.err());
            assertTrue(Files.size(dir.resolve("cmp.png")) > 1000);
        } else { // a slim runtime (the GPU bundle): a clear error, not a crash
            assertEquals(2, plot.code(), plot.err());
            assertTrue(plot.err().contains("java.desktop"), plot.err());
        }
    }

    @Test
    void resumeFromTheCommandLine(@TempDir Path dir) {
        Path ck = dir.resolve("ck");
        CliTest.Result a = CliTest.run("train", "--epochs", "2", "--no-progress", "--out", dir.resolve("a").toString(),
                "--checkpoint-dir", ck.toString());
        assertEquals(0, a.code(), a.err());
        CliTest.Result b = CliTest.run("train", "--epochs", "4", "--no-progress", "--out", dir.resolve("b").toString(),
                "--resume", ck.toString());
        assertEquals(0, b.code(), b.err());
        assertTrue(b.out().contains("resume: after epoch 2, step 82"), b.out());
        assertTrue(b.out().contains("epoch   4/4") && !b.out().contains("epoch   1/4"), b.out());
    }

    @Test
    void badModelAndDataFilesAreOneLineErrorsWithExit2(@TempDir Path dir) throws Exception {
        Path junk = dir.resolve("junk.safetensors");
        Files.write(junk, new byte[] {1, 2, 3});
        CliTest.Result r = CliTest.run("eval", "--model", junk.toString());
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains(junk.toString()), r.err());

        Path csv = dir.resolve("bad.csv");
        Files.writeString(csv, "1,2,0\n3,x,1\n");
        CliTest.Result c = CliTest.run("train", "--data", "csv:" + csv, "--no-progress");
        assertEquals(2, c.code(), c.err());
        assertTrue(c.err().contains("bad.csv") && c.err().contains("line 2"), c.err());

        CliTest.Result m = CliTest.run("train", "--data", "mnist", "--data-dir", dir.toString(), "--no-progress");
        assertEquals(2, m.code(), m.err());
        assertTrue(m.err().contains(dir.toString()), m.err());
    }
}
