package dev.salvo.cli;

import static dev.salvo.cli.BenchCommand.atLeast;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.salvo.bench.AllReduceBench;
import dev.salvo.bench.BenchModel;
import dev.salvo.bench.BenchReport;
import dev.salvo.bench.TrainOverhead;
import dev.salvo.dist.Communicator;
import dev.salvo.dist.Launch;
import dev.salvo.dist.Mpi;
import dev.salvo.io.AtomicFile;
import dev.salvo.io.OutputPaths;
import dev.salvo.nn.ParamLayout;
import java.io.File;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code salvo bench --allreduce}: the gradient all-reduce of the Fashion recipe's MLP and of
 * 784-2048-2048-10, bucketed as the data-parallel trainer buckets it, timed under {@code mpirun -np 2}
 * twice in the same run: by a plain C program calling {@code MPI_Allreduce} (compiled here with
 * {@code mpicc}) and by Salvo's {@link Communicator} (a hidden worker mode of this command, on a JDK
 * 22+). With {@code --train}, also the step time of {@code salvo train} on 1 rank and on 2 at the same
 * per-rank batch and the share of the all-reduce hidden behind backward, from summary.json.
 */
final class BenchAllReduce {

    /** The directories searched for mpirun and mpicc (the PATH); tests point it elsewhere. */
    static String searchPath = System.getenv().getOrDefault("PATH", "");
    /** The JDK used for Salvo's side when this one is older than 22. */
    static Path jdk22 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64");
    static final String JSON = "allreduce.json";
    private static final List<BenchModel> NETWORKS = List.of(BenchModel.FASHION_MLP, BenchModel.MLP_2048);
    private static final int RANKS = 2;
    /** Runs of each side, alternated, whose samples are pooled (1 with --quick). */
    private static final int ROUNDS = 4;
    private static final long TIMEOUT_S = 600;

    private final BenchCommand c;

    BenchAllReduce(BenchCommand c) {
        this.c = c;
    }

    /** The hidden worker: every rank of mpirun runs it; rank 0 prints the JSON line. */
    Integer worker(PrintWriter stdout) {
        int iters = c.pick(c.iterations, 10, 100);
        atLeast("--iterations", iters, 1);
        for (int f : c.allreduceWorker) {
            atLeast("--allreduce-worker", f, 1);
        }
        if (!Mpi.supported()) {
            throw new IllegalArgumentException(Mpi.unsupportedReason());
        }
        try (Communicator comm = Mpi.open(Launch.current())) {
            String line = AllReduceBench.time(comm, iters, c.allreduceWorker.stream().mapToInt(Integer::intValue).toArray());
            if (line != null) {
                stdout.println(line);
                stdout.flush();
            }
        }
        return 0;
    }

    Integer run(PrintWriter stdout, PrintWriter err) throws IOException {
        double mb = c.bucketMb == null ? 4.0 : c.bucketMb;
        int bucketFloats = AllReduceBench.bucketFloats(mb);
        int iters = c.pick(c.iterations, 10, 100);
        atLeast("--iterations", iters, 1);
        int rounds = c.quick ? 1 : Math.min(ROUNDS, iters);
        int perRound = (iters + rounds - 1) / rounds;
        Path mpirun = find("mpirun", "openmpi-bin");
        Path mpicc = find("mpicc", "libopenmpi-dev");
        Path dir = c.out != null ? c.out
                : Path.of("runs", "bench-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        OutputPaths.directory("--out", dir);
        OutputPaths.file("--out", dir.resolve(JSON));

        Map<String, Object> machine = BenchReport.machine();
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String command = "salvo " + String.join(" ", c.spec.commandLine().getParseResult().originalArgs().stream()
                .map(BenchCommand::shellQuote).toList());
        stdout.println("machine: " + BenchReport.describeCpu(machine) + ", " + machine.get("os"));
        stdout.println("date:    " + date);
        stdout.println("command: " + command);
        stdout.println("java:    " + machine.get("jdk"));
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("date", date);
        result.put("machine", machine);
        result.put("command", command);
        result.put("java_command_line", ProcessHandle.current().info().commandLine().orElse(null));
        result.put("working_directory", Path.of("").toAbsolutePath().toString());
        result.put("salvo_version", new Main.Version().getVersion()[0]);

        Path tmp = Files.createTempDirectory("salvo-allreduce-");
        try {
            Path src = tmp.resolve("allreduce_bench.c");
            Files.writeString(src, AllReduceBench.cSource());
            Path bin = tmp.resolve("allreduce_bench");
            List<String> compile = List.of(mpicc.toString(), "-O2", "-o", bin.toString(), src.toString());
            exec(compile, null, "mpicc");
            String cc = firstLine(exec(List.of(mpicc.toString(), "--version"), null, "mpicc --version"));
            List<String> launch = mpirun(mpirun, RANKS);
            String[] java = javaFor22();
            stdout.printf(Locale.ROOT, "allreduce: %d ranks (%s), buckets of %s MiB (%,d floats) cut from the end of the flat"
                    + " gradient buffer, %d timed steps in %d alternating run(s) of each side, %d warm-up steps per run; C: %s -O2 (%s);"
                    + " Salvo: %s%n", RANKS, String.join(" ", launch), fmt(mb), bucketFloats, perRound * rounds, rounds,
                    AllReduceBench.WARMUP, mpicc, cc,
                    java[0] != null ? java[0] : java[1]);
            stdout.flush();
            Map<String, Object> opts = new LinkedHashMap<>();
            opts.put("ranks", RANKS);
            opts.put("bucket_mb", mb);
            opts.put("bucket_floats", bucketFloats);
            opts.put("iterations", perRound * rounds);
            opts.put("rounds", rounds);
            opts.put("warmup", AllReduceBench.WARMUP);
            opts.put("mpirun", launch);
            opts.put("c_compile", String.join(" ", compile.stream().map(BenchCommand::shellQuote).toList()));
            opts.put("c_compiler", cc);
            opts.put("salvo_java", java[0] != null ? java[0] : null);
            result.put("options", opts);

            List<AllReduceBench.Row> rows = new ArrayList<>();
            for (BenchModel m : NETWORKS) {
                ParamLayout layout = ParamLayout.of(m.spec());
                int[] floats = AllReduceBench.lengths(AllReduceBench.buckets(layout, bucketFloats));
                List<String> sizes = Arrays.stream(floats).mapToObj(Integer::toString).toList();
                List<String> cCmd = new ArrayList<>(launch);
                cCmd.add(bin.toString());
                cCmd.add(Integer.toString(perRound));
                cCmd.addAll(sizes);
                List<String> jCmd = new ArrayList<>(launch);
                if (java[0] != null) {
                    jCmd.addAll(javaCommand(java[0], 0));
                    jCmd.addAll(List.of("bench", "--allreduce-worker", String.join(",", sizes), "--iterations",
                            Integer.toString(perRound)));
                }
                List<AllReduceBench.Side> cRuns = new ArrayList<>();
                List<AllReduceBench.Side> jRuns = new ArrayList<>();
                String note = java[1];
                for (int round = 0; round < rounds; round++) {
                    // C, Salvo, Salvo, C, ...: a change of load in the middle of the run falls on both sides alike
                    for (int side = 0; side < 2; side++) {
                        boolean cTurn = (side == 0) == (round % 2 == 0);
                        if (cTurn) {
                            err.printf(Locale.ROOT, "bench: %s: round %d/%d: C MPI_Allreduce of %d bucket(s)%n", m.name(), round + 1,
                                    rounds, floats.length);
                            err.flush();
                            cRuns.add(AllReduceBench.Side.parse("allreduce_bench.c", exec(cCmd, null, "mpirun allreduce_bench")));
                        } else if (java[0] != null && note == null) {
                            err.printf(Locale.ROOT, "bench: %s: round %d/%d: Salvo's Communicator.allReduceSum%n", m.name(), round + 1,
                                    rounds);
                            err.flush();
                            try {
                                jRuns.add(AllReduceBench.Side.parse("salvo's worker",
                                        exec(jCmd, java[0], "mpirun salvo bench --allreduce-worker")));
                            } catch (IllegalStateException e) {
                                note = e.getMessage();
                                jRuns.clear();
                            }
                        }
                    }
                }
                AllReduceBench.Side cSide = AllReduceBench.Side.pool(cRuns);
                AllReduceBench.Side salvo = jRuns.isEmpty() ? null : AllReduceBench.Side.pool(jRuns);
                rows.add(new AllReduceBench.Row(m.name() + " " + m.widths(), layout.count(), floats, cSide, salvo, note));
                for (AllReduceBench.Side s : new AllReduceBench.Side[] {cSide, salvo}) {
                    if (s != null && !s.check().equals("ok")) {
                        throw new IllegalStateException(s.program() + ": the checked all-reduce gave the " + s.check());
                    }
                }
            }
            result.put("networks", rows.stream().map(AllReduceBench.Row::toMap).toList());
            stdout.println();
            stdout.println("Gradient all-reduce per step (every bucket, in launch order), " + RANKS + " ranks, median [min-max]:");
            stdout.print(AllReduceBench.table(rows));
            for (AllReduceBench.Row r : rows) {
                if (r.salvo() == null) {
                    stdout.println("Salvo's side did not run: " + r.salvoNote());
                    break;
                }
            }
            if (c.train) {
                result.put("train", train(launch, java, mb, stdout, err, tmp));
            }
            write(dir.resolve(JSON), result);
            stdout.println("wrote " + dir.resolve(JSON));
            return 0;
        } finally {
            deleteTree(tmp);
        }
    }

    /** Epochs of each --train run; the last one is timed (the first ones include the JIT's warm-up). */
    static final int TRAIN_EPOCHS = 3;

    /** The --train part: salvo train on 1 rank and on 2 at the same per-rank batch, per network; a skip says why. */
    private Map<String, Object> train(List<String> launch2, String[] java, double mb, PrintWriter stdout, PrintWriter err, Path tmp) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (java[0] == null) {
            return skip(out, stdout, java[1]);
        }
        int cores = Runtime.getRuntime().availableProcessors();
        int threads = Math.max(1, cores / RANKS);
        int batch = c.batchSize;
        out.put("threads_per_rank", threads);
        out.put("batch_per_rank", batch);
        List<TrainOverhead.Row> rows = new ArrayList<>();
        for (BenchModel m : NETWORKS) {
            TrainOverhead.Run[] runs = new TrainOverhead.Run[2];
            // 2 ranks first: where the trainer writes no "distributed" object the part stops after one run
            for (int ranks = RANKS; ranks >= 1; ranks--) {
                Path folder = tmp.resolve("train-" + m.name() + "-" + ranks);
                List<String> cmd = new ArrayList<>();
                if (ranks > 1) {
                    cmd.addAll(launch2);
                }
                cmd.addAll(javaCommand(java[0], threads));
                cmd.addAll(trainArgs(m, batch * ranks, folder, c.bucketMb == null ? null : fmt(mb))); // --batch-size is global
                String what = (ranks > 1 ? "mpirun -np " + ranks + " " : "") + "salvo train";
                err.println("bench: " + m.name() + ": " + what + ", " + ranks + " rank(s), " + threads + " thread(s) each, batch "
                        + batch + " per rank, " + TRAIN_EPOCHS + " epochs");
                err.flush();
                try {
                    exec(cmd, java[0], what);
                    JsonNode summary = new ObjectMapper().readTree(folder.resolve("summary.json").toFile());
                    String where = "summary.json of " + m.name() + " on " + ranks + " rank(s)";
                    runs[ranks - 1] = ranks > 1 ? TrainOverhead.parse(summary, where) : TrainOverhead.parseSingle(summary, where, batch);
                } catch (IllegalStateException | IOException e) {
                    return skip(out, stdout, e.getMessage());
                }
            }
            rows.add(new TrainOverhead.Row(m.name() + " " + m.widths(), batch, runs[0], runs[1]));
        }
        out.put("networks", rows.stream().map(TrainOverhead.Row::toMap).toList());
        stdout.println();
        stdout.printf(Locale.ROOT, "salvo train, the last of %d epochs of Fashion-MNIST on cpu, %d thread(s) per rank, the same per-rank batch:%n", TRAIN_EPOCHS,
                threads);
        stdout.print(TrainOverhead.table(rows));
        return out;
    }

    /** The arguments of one epoch of the network's recipe on Fashion-MNIST on the cpu device, into {@code folder}; {@code batch} is the global batch. */
    static List<String> trainArgs(BenchModel m, int batch, Path folder, String bucketMb) {
        List<String> a = new ArrayList<>(List.of("train", "--data", "fashion-mnist", "--layers",
                String.join(",", m.layers().stream().map(String::valueOf).toList()), "--optimizer", "adamw", "--lr", "0.001",
                "--batch-size", Integer.toString(batch), "--epochs", Integer.toString(TRAIN_EPOCHS), "--device", "cpu", "--no-progress",
                "--out", folder.toString(), "--overwrite"));
        if (bucketMb != null) {
            a.addAll(List.of("--bucket-mb", bucketMb)); // only when given: else the trainer's default
        }
        return a;
    }

    private static Map<String, Object> skip(Map<String, Object> out, PrintWriter stdout, String why) {
        String line = "train: skipped: " + firstLine(why);
        stdout.println(line);
        out.put("skipped", firstLine(why));
        return out;
    }

    /** {@code mpirun --oversubscribe [--allow-run-as-root] -np N}. */
    static List<String> mpirun(Path mpirun, int ranks) {
        List<String> l = new ArrayList<>(List.of(mpirun.toString(), "--oversubscribe"));
        if (isRoot()) {
            l.add("--allow-run-as-root");
        }
        l.addAll(List.of("-np", Integer.toString(ranks)));
        return l;
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** {@code name} on {@link #searchPath}; a missing one is bad input naming the Debian package that has it. */
    static Path find(String name, String pkg) {
        for (String d : searchPath.split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, name))) {
                return Path.of(d, name);
            }
        }
        throw new IllegalArgumentException("--allreduce needs " + name + ", which is not on the PATH: install Open MPI, on"
                + " Debian or Ubuntu apt-get install " + pkg);
    }

    /** {java, null} for a JDK 22+ to run Salvo's side with (this one, else {@link #jdk22}); else {null, why not}. */
    static String[] javaFor22() {
        if (Runtime.version().feature() >= 22) {
            return new String[] {ProcessHandle.current().info().command().orElse(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString()), null};
        }
        Path j = jdk22.resolve("bin/java");
        if (Files.isExecutable(j)) {
            return new String[] {j.toString(), null};
        }
        return new String[] {null, "Salvo's side needs JDK 22 or newer (the FFM API calls libmpi); this is JDK "
                + Runtime.version().feature() + " and " + jdk22 + " is not there: run with JAVA_HOME=/path/to/jdk22+"};
    }

    /** This process's class path run by {@code java} with Salvo's JVM flags (and {@code threads} CPU threads when > 0). */
    private static List<String> javaCommand(String java, int threads) {
        List<String> cp = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(File.pathSeparator)) {
            cp.add(Path.of(p).toAbsolutePath().toString());
        }
        List<String> l = new ArrayList<>(List.of(java, "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"));
        if (threads > 0) {
            l.add("-XX:ActiveProcessorCount=" + threads);
        }
        l.addAll(List.of("-cp", String.join(File.pathSeparator, cp), Main.class.getName()));
        return l;
    }

    /**
     * Runs {@code cmd}, returns its stdout; a non-zero exit throws {@link IllegalStateException} with the
     * last lines of its stderr. LD_PRELOAD is set to {@code java}'s signal-chaining library (or removed).
     */
    static String exec(List<String> cmd, String java, String who) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove("LD_PRELOAD");
            if (java != null) {
                Path jsig = Path.of(java).toAbsolutePath().getParent().getParent().resolve("lib/libjsig.so");
                if (Files.isRegularFile(jsig)) {
                    pb.environment().put("LD_PRELOAD", jsig.toString());
                }
            }
            Path errFile = Files.createTempFile("salvo-allreduce-", ".err");
            try {
                pb.redirectError(errFile.toFile());
                pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
                Process p = pb.start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException(who + " did not finish in " + TIMEOUT_S + " s");
                }
                if (p.exitValue() != 0) {
                    List<String> lines = Files.readAllLines(errFile, StandardCharsets.UTF_8).stream()
                            .filter(l -> !l.isBlank() && !l.startsWith("WARNING: Using incubator") && !l.startsWith("---")).toList();
                    String tail = String.join(" / ", lines.subList(Math.max(0, lines.size() - 3), lines.size()));
                    throw new IllegalStateException(who + " exited with " + p.exitValue() + ": " + tail);
                }
                return new String(out, StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(errFile);
            }
        } catch (IOException e) {
            throw new IllegalStateException(who + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(who + " interrupted", e);
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("").strip();
    }

    private static String fmt(double mb) {
        return mb == Math.rint(mb) ? Long.toString((long) mb) : Double.toString(mb);
    }

    private static void write(Path file, Map<String, Object> result) throws IOException {
        AtomicFile.write(file, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(result));
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temp folder left behind is harmless
        }
    }
}
