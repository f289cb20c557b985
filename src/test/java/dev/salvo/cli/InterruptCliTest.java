package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.io.ModelFile;
import dev.salvo.train.RunFolder;
import dev.salvo.train.Checkpoint;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ctrl-C during training, in a real child JVM: the first SIGINT (or SIGTERM) finishes the step,
 * writes the run folder (metrics so far, a summary marked interrupted, the model of the last step,
 * a checkpoint), prints one line and exits 130; {@code --resume} then ends bitwise where a run that
 * was never stopped ends. A second signal quits at once and leaves every file whole.
 */
class InterruptCliTest {

    @TempDir
    Path dir;

    private static final String[] RECIPE = {"train", "--device", "cpu", "--no-progress", "--epochs", "60", "--seed", "3"};

    /** A child JVM running the salvo command line; its output lines are collected as they come. */
    static final class Child {
        final Process process;
        final List<String> lines = new ArrayList<>();
        private final Thread reader;

        Child(String... args) throws Exception {
            String cp = dev.salvo.Check.childClassPath(Main.class, picocli.CommandLine.class, ObjectMapper.class,
                    com.fasterxml.jackson.core.JsonFactory.class, com.fasterxml.jackson.annotation.JsonProperty.class,
                    org.knowm.xchart.XYChart.class);
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--add-modules=jdk.incubator.vector", "-Xmx1g", "-cp", cp, Main.class.getName()));
            cmd.addAll(Arrays.asList(args));
            process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            reader = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(l);
                            lines.notifyAll();
                        }
                    }
                } catch (java.io.IOException e) {
                    // the child is gone
                }
            });
            reader.setDaemon(true);
            reader.start();
        }

        /** Waits until a line starts with {@code prefix} (however slow the machine is), or the child ends. */
        void awaitLine(String prefix) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            synchronized (lines) {
                while (lines.stream().noneMatch(l -> l.startsWith(prefix))) {
                    if (!process.isAlive() || System.nanoTime() > deadline) {
                        throw new AssertionError("no line starting with '" + prefix + "': " + String.join("\n", lines));
                    }
                    lines.wait(50);
                }
            }
        }

        void signal(String sig) throws Exception {
            Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
            assertTrue(k.waitFor(30, TimeUnit.SECONDS) && k.exitValue() == 0, "kill -" + sig);
        }

        int exit() throws Exception {
            assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the child ended");
            reader.join(TimeUnit.SECONDS.toMillis(30));
            return process.exitValue();
        }

        String output() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }
    }

    private static String[] with(String[] base, String... more) {
        List<String> a = new ArrayList<>(Arrays.asList(base));
        a.addAll(Arrays.asList(more));
        return a.toArray(new String[0]);
    }

    @Test
    void ctrlCSavesTheRunAndResumeEndsWhereAStraightRunEnds() throws Exception {
        Path run = dir.resolve("run");
        Child c = new Child(with(RECIPE, "--out", run.toString()));
        c.awaitLine("epoch   2/60");
        c.signal("INT");
        assertEquals(130, c.exit(), c.output());
        String out = c.output();
        List<String> said = out.lines().filter(l -> l.startsWith("interrupted at epoch")).toList();
        assertEquals(1, said.size(), out);
        assertTrue(said.get(0).contains("continue with: salvo train --resume " + run), said.get(0));
        assertTrue(!out.contains("Exception"), out);

        // the run folder of an interrupted run: metrics so far, summary marked so, model and checkpoint of the last step
        List<String> metrics = Files.readAllLines(run.resolve(RunFolder.METRICS));
        assertTrue(metrics.size() >= 3, "at least the two epochs seen: " + metrics);
        JsonNode summary = new ObjectMapper().readTree(run.resolve(RunFolder.SUMMARY).toFile());
        assertTrue(summary.get("interrupted").asBoolean(), summary.toString());
        Checkpoint.Snapshot s = Checkpoint.load(run);
        assertEquals(summary.get("stopped_at_step").asLong(), s.step());
        assertEquals(metrics.size() - 1, s.history().size());
        float[] model = ModelFile.load(run.resolve(RunFolder.MODEL)).parameters();
        assertTrue(Arrays.equals(model, s.parameters()), "the model is the checkpoint's last step");

        Child resumed = new Child("train", "--device", "cpu", "--no-progress", "--resume", run.toString());
        assertEquals(0, resumed.exit(), resumed.output());
        Path straight = dir.resolve("straight");
        Child full = new Child(with(RECIPE, "--out", straight.toString()));
        assertEquals(0, full.exit(), full.output());

        float[] a = ModelFile.load(straight.resolve(RunFolder.MODEL)).parameters();
        float[] b = ModelFile.load(run.resolve(RunFolder.MODEL)).parameters();
        assertTrue(Arrays.equals(a, b), "interrupted + resumed = never stopped, bit for bit");
        List<String> m1 = Files.readAllLines(straight.resolve(RunFolder.METRICS));
        List<String> m2 = Files.readAllLines(run.resolve(RunFolder.METRICS));
        assertEquals(61, m2.size(), "the whole history: " + m2);
        for (int i = 1; i < m1.size(); i++) { // epoch, step, losses, accuracy, rate
            assertEquals(String.join(",", Arrays.copyOf(m1.get(i).split(","), 6)),
                    String.join(",", Arrays.copyOf(m2.get(i).split(","), 6)), "epoch " + i);
        }
        JsonNode end = new ObjectMapper().readTree(run.resolve(RunFolder.SUMMARY).toFile());
        assertTrue(!end.get("interrupted").asBoolean() && end.get("history").size() == 60, end.toString());
    }

    @Test
    void aSecondSignalQuitsAtOnceAndLeavesEveryFileWhole() throws Exception {
        Path run = dir.resolve("run");
        Path ckpt = dir.resolve("ckpt");
        Child c = new Child(with(RECIPE, "--out", run.toString(), "--checkpoint-dir", ckpt.toString(), "--checkpoint-every", "5"));
        c.awaitLine("epoch   2/60");
        c.signal("TERM");
        c.signal("INT");
        assertEquals(130, c.exit(), c.output());
        // whatever was written is complete: every file that exists parses
        RunFolder.read(run);
        Checkpoint.Snapshot s = Checkpoint.load(ckpt);
        assertTrue(s.step() >= 5, "checkpoints were written: step " + s.step());
        if (Files.exists(run.resolve(RunFolder.MODEL))) {
            ModelFile.load(run.resolve(RunFolder.MODEL));
        }
        if (Files.exists(run.resolve(RunFolder.SUMMARY))) {
            new ObjectMapper().readTree(run.resolve(RunFolder.SUMMARY).toFile());
        }
        // and the run goes on from the checkpoint
        Child resumed = new Child("train", "--device", "cpu", "--no-progress", "--resume", ckpt.toString(), "--out",
                dir.resolve("run2").toString());
        assertEquals(0, resumed.exit(), resumed.output());
        assertEquals(60, Checkpoint.load(ckpt).history().size());
    }
}
