package dev.salvo.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.DeviceContract;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data-parallel training under Open MPI's {@code mpirun}, run on the packaged jar (failsafe, after
 * {@code package}) with a JDK 22+: 2 ranks with the global batch split reproduce 1 process step by
 * step (loss within 1e-5 relative, test accuracy within 0.5 points) with the ranks' parameters
 * bitwise equal after every step (SALVO_STEP_TRACE's hashes); checkpoints of 2 ranks resume on 1
 * and 3; a rank killed with SIGKILL ends the job; the MPI binding allocates nothing per
 * all-reduce; ranks that differ, bad input on one rank only, a world larger than the batch and one
 * GPU named twice are refused. Skipped with the reason when mpirun or a JDK 22+ is missing, unless
 * SALVO_REQUIRE lists {@code mpi}.
 */
class MpiTrainIT {

    static final Path ROOT = Path.of("").toAbsolutePath();
    static final Path JAR = ROOT.resolve("target/salvo-all.jar");
    static Path jvm;
    static Path mpirun;

    @BeforeAll
    static void find() {
        mpirun = onPath("mpirun");
        jvm = jdk22();
        String missing = mpirun == null ? "mpirun not found (Debian package openmpi-bin)"
                : jvm == null ? "no JDK 22+ (JAVA_HOME or /usr/lib/jvm/temurin-25-jdk-amd64)"
                : !Files.isRegularFile(JAR) ? JAR + " not built (run mvn verify)" : null;
        if (missing != null) {
            if (DeviceContract.required("mpi")) {
                throw new AssertionError("SALVO_REQUIRE lists mpi but " + missing);
            }
            Assumptions.abort(missing);
        }
    }

    static Path onPath(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            Path p = Path.of(d.isEmpty() ? "." : d, name);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    static Path jdk22() {
        for (String home : new String[] {System.getenv("SALVO_TEST_JDK22"), "/usr/lib/jvm/temurin-25-jdk-amd64", System.getProperty("java.home")}) {
            if (home != null && Files.isExecutable(Path.of(home, "bin/java")) && feature(Path.of(home)) >= 22) {
                return Path.of(home, "bin/java");
            }
        }
        return null;
    }

    static int feature(Path home) {
        try {
            for (String line : Files.readAllLines(home.resolve("release"))) {
                if (line.startsWith("JAVA_VERSION=")) {
                    String v = line.substring(14).replace("\"", "");
                    return Integer.parseInt(v.split("[.+-]")[0]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // unknown
        }
        return 0;
    }

    /**
     * The command of one salvo process: the README's launcher (which runs the jar with the JVM
     * flags, signal chaining and, under mpirun, each rank's share of the cores). Not {@code java}
     * itself: Open MPI's mpirun rewrites the arguments of a {@code java} command for its Java
     * bindings (an argument holding "cp", such as {@code cpu}, makes it prefix the next one with a class path).
     */
    static List<String> salvo(String... args) {
        List<String> c = new ArrayList<>(List.of(ROOT.resolve("salvo").toString()));
        c.addAll(List.of(args));
        return c;
    }

    /** mpirun -np N of the salvo command. */
    static List<String> mpi(int ranks, List<String> command) {
        List<String> c = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", Integer.toString(ranks),
                "-x", "SALVO_STEP_TRACE", "-x", "JAVA_HOME", "-x", "SALVO_JAVA_OPTS"));
        if ("root".equals(System.getProperty("user.name"))) {
            c.add(1, "--allow-run-as-root");
        }
        c.addAll(command);
        return c;
    }

    record Result(int rc, String output) {
    }

    static Result run(List<String> command, Path trace, long timeoutSeconds) throws Exception {
        Process p = start(command, trace);
        boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
            throw new AssertionError("timed out after " + timeoutSeconds + " s: " + command + "\n" + read(p));
        }
        return new Result(p.exitValue(), read(p));
    }

    static Process start(List<String> command, Path trace) throws IOException {
        return start(command, trace, "");
    }

    static Process start(List<String> command, Path trace, String javaOptions) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("SALVO_STEP_TRACE", trace == null ? "" : trace.toString());
        pb.environment().put("JAVA_HOME", jvm.getParent().getParent().toString());
        pb.environment().put("SALVO_JAVA_OPTS", ("-Xmx2g " + javaOptions).trim());
        pb.redirectOutput(Files.createTempFile("salvo-mpi", ".log").toFile());
        Process p = pb.start();
        logs.put(p, pb.redirectOutput().file().toPath());
        return p;
    }

    static final java.util.Map<Process, Path> logs = new java.util.concurrent.ConcurrentHashMap<>();

    static String read(Process p) throws IOException {
        return Files.readString(logs.get(p), StandardCharsets.UTF_8);
    }

    /** Each line of a trace: {step, loss, sha256}. */
    static List<String[]> trace(Path dir, int rank) throws IOException {
        List<String[]> out = new ArrayList<>();
        for (String l : Files.readAllLines(dir.resolve("rank-" + rank + ".tsv"))) {
            out.add(l.split("\t"));
        }
        return out;
    }

    static double accuracy(String output) {
        Matcher m = Pattern.compile("test accuracy ([0-9.]+)%").matcher(output);
        assertTrue(m.find(), output);
        return Double.parseDouble(m.group(1));
    }

    /** 1 process with batch B against 2 ranks with B/2 each: per-step loss, ranks bitwise equal, accuracy. */
    void equivalence(Path tmp, String device, int steps, String... options) throws Exception {
        List<String> common = new ArrayList<>(List.of("train", "--data", "digits", "--device", device, "--no-progress"));
        common.addAll(List.of(options));
        Result[] r = equivalence(tmp, steps, common);
        assertTrue(Math.abs(accuracy(r[0].output()) - accuracy(r[1].output())) <= 0.5, r[0].output() + "\n" + r[1].output());
    }

    /**
     * Runs {@code common} (salvo's arguments but --out) in 1 process and on 2 ranks: the first {@code steps}
     * losses within 1e-5 relative, the ranks' parameters equal after every step and at the end. Returns both runs, 1 process first.
     */
    Result[] equivalence(Path tmp, int steps, List<String> common) throws Exception {
        Path t1 = tmp.resolve("t1");
        Path t2 = tmp.resolve("t2");
        List<String> one = new ArrayList<>(common);
        one.addAll(List.of("--out", tmp.resolve("one").toString()));
        List<String> two = new ArrayList<>(common);
        two.addAll(List.of("--out", tmp.resolve("two").toString()));
        Result r1 = run(salvo(one.toArray(new String[0])), t1, 600);
        assertEquals(0, r1.rc(), r1.output());
        Result r2 = run(mpi(2, salvo(two.toArray(new String[0]))), t2, 600);
        assertEquals(0, r2.rc(), r2.output());
        assertTrue(r2.output().contains("rank 0/2") && r2.output().contains("rank 1/2"), r2.output());
        List<String[]> a = trace(t1, 0);
        List<String[]> b0 = trace(t2, 0);
        List<String[]> b1 = trace(t2, 1);
        assertTrue(a.size() >= steps && b0.size() == a.size() && b1.size() == a.size(), a.size() + " " + b0.size() + " " + b1.size());
        for (int s = 0; s < a.size(); s++) {
            assertEquals(b0.get(s)[2], b1.get(s)[2], "step " + (s + 1) + ": the ranks' parameters differ");
            if (s < steps) {
                double x = Double.parseDouble(a.get(s)[1]);
                double y = Double.parseDouble(b0.get(s)[1]);
                assertTrue(Math.abs(x - y) <= 1e-5 * Math.abs(x), "step " + (s + 1) + ": loss " + y + " on 2 ranks vs " + x + " on 1");
            }
        }
        Matcher done = Pattern.compile("rank (\\d)/2: done at step (\\d+), parameters sha256 ([0-9a-f]{16})").matcher(r2.output());
        List<String> finals = new ArrayList<>();
        while (done.find()) {
            finals.add(done.group(2) + " " + done.group(3));
        }
        assertEquals(2, finals.size(), r2.output());
        assertEquals(finals.get(0), finals.get(1), "the ranks' final parameters differ");
        assertEquals(b0.get(b0.size() - 1)[2].substring(0, 16), finals.get(0).split(" ")[1]);
        return new Result[] {r1, r2};
    }

    @Test
    void mlpOnTwoCpuRanksMatchesOneProcess(@TempDir Path tmp) throws Exception {
        equivalence(tmp, "cpu", 50, "--epochs", "3", "--batch-size", "64", "--loss-every", "1");
    }

    /** A CNN with random flips and dropout: each rank draws its rows' part of the global batch's masks. */
    @Test
    void cnnWithFlipsAndDropoutOnTwoCpuRanksMatchesOneProcess(@TempDir Path tmp) throws Exception {
        equivalence(tmp, "cpu", 50, "--net", ROOT.resolve("src/test/resources/nets/dist-cnn.json").toString(), "--epochs", "2",
                "--batch-size", "32");
    }

    /** A character GPT on text windows, its gradient in many small buckets (the tied wte's bucket must wait for the embedding). */
    @Test
    void gptOnTwoCpuRanksInSmallBucketsMatchesOneProcess(@TempDir Path tmp) throws Exception {
        List<String> common = List.of("train", "--data", "kjv-genesis", "--gpt", "2,2,32", "--context", "16", "--batch-size", "8",
                "--steps", "50", "--eval-every", "25", "--eval-windows", "50", "--optimizer", "adamw", "--clip-norm", "1.0",
                "--device", "cpu", "--no-progress", "--bucket-mb", "0.01");
        Result r2 = equivalence(tmp, 50, common)[1];
        assertTrue(Pattern.compile("rank 0/2 .* host memory .* \\d+ buckets").matcher(r2.output()).find(), r2.output());
    }

    @Test
    void mlpOnTwoOpenClRanksMatchesOneProcess(@TempDir Path tmp) throws Exception {
        Result probe = run(salvo("devices"), null, 120);
        if (!probe.output().contains("opencl:0")) {
            if (DeviceContract.required("opencl")) {
                throw new AssertionError("SALVO_REQUIRE lists opencl but salvo devices shows none:\n" + probe.output());
            }
            Assumptions.abort("no OpenCL device");
        }
        equivalence(tmp, "opencl", 50, "--epochs", "3", "--batch-size", "64");
    }

    @Test
    void checkpointOfTwoRanksResumesOnOneAndThree(@TempDir Path tmp) throws Exception {
        // a constant rate: the 1-epoch run that writes the checkpoint is the first epoch of the 3-epoch one
        String[] opts = {"train", "--data", "digits", "--device", "cpu", "--no-progress", "--batch-size", "64", "--seed", "3",
            "--schedule", "constant"};
        Path full = tmp.resolve("full");
        Result whole = run(mpi(2, salvo(concat(opts, "--epochs", "3", "--out", tmp.resolve("w").toString()))), full, 600);
        assertEquals(0, whole.rc(), whole.output());
        Path ck = tmp.resolve("ck");
        Result first = run(mpi(2, salvo(concat(opts, "--epochs", "1", "--out", tmp.resolve("a").toString(), "--checkpoint-dir",
                ck.toString()))), tmp.resolve("first"), 600);
        assertEquals(0, first.rc(), first.output());
        List<String[]> ref = trace(full, 0);
        for (int ranks : new int[] {1, 3}) {
            Path copy = tmp.resolve("ck" + ranks);
            Files.createDirectories(copy);
            try (var files = Files.list(ck)) {
                for (Path f : files.toList()) {
                    Files.copy(f, copy.resolve(f.getFileName()));
                }
            }
            Path t = tmp.resolve("resumed" + ranks);
            List<String> cmd = salvo("train", "--resume", copy.toString(), "--epochs", "3", "--device", "cpu", "--no-progress",
                    "--out", tmp.resolve("r" + ranks).toString());
            Result r = run(ranks == 1 ? cmd : mpi(ranks, cmd), t, 600);
            assertEquals(0, r.rc(), r.output());
            List<String[]> got = trace(t, 0);
            assertEquals(ref.size() - 21, got.size(), "steps after the checkpoint");
            for (int i = 0; i < got.size(); i++) {
                String[] want = ref.get(21 + i);
                assertEquals(want[0], got.get(i)[0]);
                double x = Double.parseDouble(want[1]);
                double y = Double.parseDouble(got.get(i)[1]);
                assertTrue(Math.abs(x - y) <= 1e-5 * Math.abs(x), ranks + " ranks, step " + want[0] + ": loss " + y + " vs " + x);
            }
            assertTrue(Math.abs(accuracy(whole.output()) - accuracy(r.output())) <= 0.5, r.output());
        }
    }

    static String[] concat(String[] a, String... b) {
        String[] c = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    @Test
    void aKilledRankEndsTheJobAndTheCheckpointResumes(@TempDir Path tmp) throws Exception {
        Path ck = tmp.resolve("ck");
        Path t = tmp.resolve("t");
        Process p = start(mpi(2, salvo("train", "--data", "digits", "--device", "cpu", "--no-progress", "--batch-size", "16",
                "--epochs", "400", "--checkpoint-dir", ck.toString(), "--checkpoint-every", "20", "--out", tmp.resolve("o").toString())), t);
        long pid = -1;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
        Pattern rank1 = Pattern.compile("rank 1/2 \\(local \\d+/\\d+ on .*, pid (\\d+)\\)");
        while (System.nanoTime() < deadline) {
            Matcher m = rank1.matcher(read(p));
            if (pid < 0 && m.find()) {
                pid = Long.parseLong(m.group(1));
            }
            if (pid > 0 && Files.exists(ck.resolve("checkpoint.bin")) && Files.exists(t.resolve("rank-1.tsv"))
                    && Files.readAllLines(t.resolve("rank-1.tsv")).size() > 50) {
                break;
            }
            assertTrue(p.isAlive(), read(p));
            Thread.sleep(200);
        }
        assertTrue(pid > 0, read(p));
        long killedAt = System.nanoTime();
        new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor();
        boolean ended = p.waitFor(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        if (!ended) {
            p.destroyForcibly();
        }
        String out = read(p);
        assertTrue(ended, "the job still runs 60 s after rank 1 was killed:\n" + out);
        assertNotEquals(0, p.exitValue(), out);
        assertTrue(Pattern.compile("(?m)^.*rank 1 .*(signal 9|Killed).*$").matcher(out).find(), "no line names the lost rank 1:\n" + out);
        System.out.printf("job ended %.1f s after rank 1 was killed, exit %d%n", seconds, p.exitValue());
        Result r = run(salvo("train", "--resume", ck.toString(), "--epochs", "1", "--device", "cpu", "--no-progress",
                "--out", tmp.resolve("again").toString()), null, 300);
        assertTrue(r.output().contains("resume:") || r.output().contains("nothing to do"), r.output());
    }

    /** The FFM binding's hot calls (a gradient bucket inside the staging buffer, the loss sums) allocate nothing once warm. */
    @Test
    void theMpiBindingAllocatesNothingPerAllReduce() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-np", "2"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add(1, "--allow-run-as-root");
        }
        // "-classpath", not "-cp": mpirun rewrites a java command's arguments that contain "cp"
        cmd.addAll(List.of(jvm.toString(), "--enable-native-access=ALL-UNNAMED", "-classpath",
                JAR + ":" + ROOT.resolve("target/test-classes"), MpiAllocationMain.class.getName()));
        Result r = run(cmd, null, 300);
        assertEquals(0, r.rc(), r.output());
        Matcher m = Pattern.compile("round (\\d): buckets ([0-9.]+) B/call, doubles ([0-9.]+) B/call \\(all ranks\\), sums (\\w+)")
                .matcher(r.output());
        int lines = 0;
        while (m.find()) {
            lines++;
            assertEquals("right", m.group(4), r.output());
            if (Integer.parseInt(m.group(1)) >= 2) { // after the JIT's warm-up
                assertEquals(0.0, Double.parseDouble(m.group(2)), 0.05, "bytes per bucket all-reduce:\n" + r.output());
                assertEquals(0.0, Double.parseDouble(m.group(3)), 0.05, "bytes per double[] all-reduce:\n" + r.output());
            }
        }
        assertEquals(5, lines, r.output());
    }

    @Test
    void ranksThatDifferAreRefusedBeforeTraining(@TempDir Path tmp) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe", "-x", "JAVA_HOME", "-np", "1"));
        if ("root".equals(System.getProperty("user.name"))) {
            cmd.add(1, "--allow-run-as-root");
        }
        cmd.addAll(salvo("train", "--data", "digits", "--device", "cpu", "--layers", "64,32,10", "--out", tmp.resolve("a").toString()));
        cmd.addAll(List.of(":", "-np", "1"));
        cmd.addAll(salvo("train", "--data", "digits", "--device", "cpu", "--layers", "64,16,10", "--out", tmp.resolve("b").toString()));
        Result r = run(cmd, null, 300);
        assertEquals(2, r.rc(), r.output());
        assertTrue(r.output().contains("rank 1 differs from rank 0 in network"), r.output());
        assertTrue(!r.output().contains("epoch "), "trained although the ranks differ:\n" + r.output());

        // bad input on rank 1 only (its machine lacks a file rank 0 has): rank 1 says it, after its grace period
        cmd = new ArrayList<>(cmd.subList(0, cmd.indexOf(":") + 3));
        cmd.set(cmd.indexOf(tmp.resolve("a").toString()), tmp.resolve("a2").toString());
        cmd.addAll(salvo("train", "--data", "csv:" + tmp.resolve("only-on-rank-0.csv"), "--device", "cpu", "--layers", "64,32,10",
                "--out", tmp.resolve("c").toString()));
        r = run(cmd, null, 300);
        assertEquals(2, r.rc(), r.output());
        assertEquals(1, r.output().lines().filter(l -> l.startsWith("salvo train (rank 1): ") && l.contains("only-on-rank-0.csv")).count(),
                r.output());
    }

    @Test
    void aWorldLargerThanTheBatchAndOneGpuTwiceAreBadInput(@TempDir Path tmp) throws Exception {
        Result r = run(mpi(2, salvo("train", "--data", "digits", "--device", "cpu", "--batch-size", "1", "--out", tmp.resolve("a").toString())),
                null, 300);
        assertEquals(2, r.rc(), r.output());
        assertTrue(r.output().contains("--batch-size 1 is the global batch and must be at least the world size 2"), r.output());
        assertTrue(!r.output().contains("device:"), r.output());
        r = run(mpi(2, salvo("train", "--data", "digits", "--device", "cuda:0,cuda:0", "--out", tmp.resolve("b").toString())), null, 300);
        assertEquals(2, r.rc(), r.output());
        assertTrue(r.output().contains("names cuda:0 for local ranks 0 and 1"), r.output());
        // no libmpi: the line names the package that installs it
        Process p = start(mpi(2, salvo("train", "--data", "digits", "--device", "cpu", "--out", tmp.resolve("c").toString())), null,
                "-Dsalvo.mpi.library=libmpi-missing.so.40");
        assertTrue(p.waitFor(300, TimeUnit.SECONDS));
        String out = read(p);
        assertEquals(2, p.exitValue(), out);
        assertTrue(out.contains("libmpi-missing.so.40 not found") && out.contains("apt-get install openmpi-bin"), out);
        assertEquals(1, out.lines().filter(l -> l.startsWith("salvo train:")).count(), "one line, from rank 0:\n" + out);
    }

    @Test
    void jdk17UnderMpirunSaysDistributedNeedsJdk22(@TempDir Path tmp) throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        Assumptions.assumeTrue(Files.isExecutable(jdk17.resolve("bin/java")), "no JDK 17 at " + jdk17);
        Path saved = jvm;
        jvm = jdk17.resolve("bin/java");
        try {
            Result r = run(mpi(2, salvo("train", "--data", "digits", "--device", "cpu", "--out", tmp.resolve("a").toString())), null, 300);
            assertEquals(2, r.rc(), r.output());
            assertTrue(r.output().contains("distributed training needs JDK 22 or newer") && r.output().contains("JAVA_HOME="), r.output());
        } finally {
            jvm = saved;
        }
    }
}
