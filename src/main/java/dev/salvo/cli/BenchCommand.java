package dev.salvo.cli;

import dev.salvo.bench.BenchModel;
import dev.salvo.bench.BenchReport;
import dev.salvo.bench.BenchResults;
import dev.salvo.bench.BenchRunner;
import dev.salvo.bench.FmaPeak;
import dev.salvo.bench.PyTorchReference;
import dev.salvo.data.Dataset;
import dev.salvo.data.Normalization;
import dev.salvo.data.StandardDatasets;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.Devices;
import dev.salvo.device.Probe;
import dev.salvo.io.OutputPaths;
import dev.salvo.util.Rng;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.temporal.ChronoUnit;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code salvo bench}: trains the Fashion-MNIST recipe's MLP, a larger one and the Fashion-MNIST
 * CNN on each device, profiles where a step's time goes (and the CNN's conv2d GFLOP/s), sweeps
 * matmul sizes, runs the same work in PyTorch on the CPU as a reference, and writes bench.json and
 * bench.png.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark training and matmul on each device against PyTorch on the CPU.",
                "Trains 784-512-256-10 (the Fashion-MNIST recipe: AdamW lr 0.001, cosine, batch 128) and "
                        + "784-2048-2048-10 for one epoch after a warm-up, and the Fashion-MNIST CNN (nets/fashion-cnn.json: "
                        + "AdamW lr 0.002, weight decay 0.05, cosine, standardized inputs) for 100 steps, its epoch time "
                        + "scaled from them; profiles the shares of matmul, elementwise ops and the host loop (a separate, "
                        + "synchronized pass) and the CNN's conv2d forward and backward GFLOP/s, and times the matmul op "
                        + "for n x n sizes. The PyTorch script (pytorch_bench.py, written beside bench.json) does the same "
                        + "work on the CPU in the same run. Fashion-MNIST from /usr/share/datasets/fashion-mnist, or "
                        + "random data of its shape where it is not installed (said so). Writes bench.json and bench.png "
                        + "to --out (default runs/bench-<yyyyMMdd-HHmmss>/).",
                "--gpt instead trains the baby GPT of issue 14 (4 layers, 4 heads, 128 wide, context 64, batch 12, AdamW lr 1e-3 "
                        + "betas 0.9/0.99, weight decay 0.1 on matrices, clip 1.0, 100 warm-up steps then cosine to 1e-4, "
                        + "--steps 2000) on --text (default: the embedded kjv-genesis excerpt; the recipe's corpus is the whole "
                        + "KJV: bible -l79 \"Gen1:1-Rev22:21\" </dev/null > kjv.txt) on each device, times every step, reports tokens/s "
                        + "(median [min-max], p10-p90), the validation loss and the shares of matmul, attention, layer norm and "
                        + "the optimizer, and runs pytorch_gpt_bench.py on the same text in the same run.",
                "--allreduce instead times the gradient all-reduce of data-parallel training: the gradient buckets (--bucket-mb,"
                        + " default 4, cut from the end of the flat buffer) of 784-512-256-10 and 784-2048-2048-10 under mpirun -np 2,"
                        + " by a plain C program calling MPI_Allreduce (allreduce_bench.c, compiled with mpicc in the same run) and by"
                        + " Salvo's MPI communicator (JDK 22+), per step median [min-max]; --train adds salvo train on 1 and 2 ranks."
                        + " Writes allreduce.json."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class BenchCommand implements Callable<Integer> {

    private static final int MAX_SIZE = 16384;
    private static final int SYNTHETIC_ROWS = 60_000;
    private static final int QUICK_SYNTHETIC_ROWS = 4096;
    /** Timed steps per pass of a network file (the CNN) unless --steps says otherwise: 100 of 469 (~90 s an epoch on 2 cores). */
    private static final int NETWORK_STEPS = 100;
    private static final int QUICK_NETWORK_STEPS = 5;

    @Spec
    CommandSpec spec;

    @Option(names = "--device", split = ",",
            description = "Devices to measure, e.g. cpu,opencl (default: every available device but the float64 reference).")
    List<String> devices;

    @Option(names = "--models", split = ",", description = "fashion-mlp (784-512-256-10), mlp-2048 (784-2048-2048-10), "
            + "fashion-cnn (or cnn: the Fashion-MNIST CNN, nets/fashion-cnn.json, on its own recipe). Default: all three; "
            + "--models cnn runs the CNN alone.")
    List<String> models;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "128", description = "Rows per step. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--warmup-steps", description = "Untimed training steps before timing (default 200; --quick 10).")
    Integer warmupSteps;

    @Option(names = "--max-warmup-seconds", description = "Bound on the warm-up per model and device (default 30).")
    Double maxWarmupSeconds;

    @Option(names = "--steps", description = "Timed steps per pass, every model (default: a whole epoch, 0, for the MLPs "
            + "and 100 steps for fashion-cnn; --quick 20 and 5). With fewer steps than an epoch the epoch time is "
            + "extrapolated (marked ~); --steps 0 times whole epochs of every model (bounded by --max-epoch-seconds).")
    Integer steps;

    @Option(names = "--max-epoch-seconds", description = "A pass that would take longer than this (judged from the warm-up) "
            + "times fewer steps and extrapolates the epoch (default 120). Keeps OpenCL on PoCL bounded.")
    Double maxEpochSeconds;

    @Option(names = "--repeat", description = "Timed passes per model and device; median [min-max] (default 3; --quick 1).")
    Integer repeat;

    @Option(names = "--profile-steps", description = "Steps of the synchronized profiling pass (default 50; --quick 5).")
    Integer profileSteps;

    @Option(names = "--sizes", split = ",", description = "Matmul sizes n (default 128,256,512,1024,2048; --quick 64,128,256).")
    List<Integer> sizes;

    @Option(names = "--sweep-seconds", description = "Time budget of each matmul size per device, and of each conv2d layer's "
            + "forward and backward in the PyTorch reference (default 3; --quick 0.3).")
    Double sweepSeconds;

    @Option(names = "--data-dir", description = "Directory of the Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist; "
            + "where that is not installed, random data of the same shape, as --synthetic, said so in the output).")
    Path dataDir;

    @Option(names = "--synthetic", description = "Random data of Fashion-MNIST's shape (784 features, 10 classes; 60,000 rows, "
            + "4,096 with --quick) instead of Fashion-MNIST; labelled as such in the output.")
    boolean synthetic;

    @Option(names = "--no-reference", description = "Do not run the PyTorch reference.")
    boolean noReference;

    @Option(names = "--python", description = "Python interpreter for the reference (default: python3 on the PATH, "
            + "then /usr/bin/python3; the first that imports torch and numpy).")
    String python;

    @Option(names = "--out", description = "Folder for bench.json, bench.png and pytorch_bench.py (default runs/bench-<timestamp>).")
    Path out;

    @Option(names = "--quick", description = "A tiny run for tests: few steps, small sizes, one pass.")
    boolean quick;

    @Option(names = "--gpt", description = "Benchmark the baby-GPT recipe instead (see above): --text, --steps (default 2000;"
            + " --quick 30), --profile-steps (default 20), --eval-windows, --device, --no-reference, --python, --out apply.")
    boolean gpt;

    @Option(names = "--text", description = "--gpt: the UTF-8 text to train on (default: the embedded kjv-genesis excerpt)."
            + " The recipe's: bible -l79 \"Gen1:1-Rev22:21\" </dev/null > kjv.txt.")
    Path text;

    @Option(names = "--eval-windows", description = "--gpt: most validation windows of the text's last tenth (default 1000;"
            + " --quick 50).")
    Integer evalWindows;

    @Option(names = "--gpt-shape", split = ",", paramLabel = "L,H,C,T,V", description = "A shape check instead: build a GPT of L"
            + " layers, H heads, C wide, context T, vocabulary V (GPT-2 small: 12,12,768,1024,50257) on --device (default cpu)"
            + " for --batch-size windows (default 4), run --steps timed training steps on random ids (default 2), and report"
            + " its device memory and step times. On the CPU provider the memory is the JVM heap: SALVO_JAVA_OPTS=-Xmx16g.")
    List<Integer> gptShape;

    @Option(names = "--allreduce", description = "Time the gradient all-reduce instead: the buckets (--bucket-mb) of"
            + " 784-512-256-10 and 784-2048-2048-10 under mpirun -np 2, by a C program calling MPI_Allreduce (compiled with"
            + " mpicc in the same run) and by Salvo's MPI communicator (JDK 22+); writes allreduce.json to --out. Needs"
            + " openmpi-bin and libopenmpi-dev. --iterations, --train, --quick, --out apply.")
    boolean allreduce;

    @Option(names = "--bucket-mb", description = "--allreduce: gradient bucket size in MiB, cut from the end of the flat"
            + " gradient buffer (default 4, the trainer's).")
    Double bucketMb;

    @Option(names = "--iterations", description = "--allreduce: timed all-reduce steps per side (default 100; --quick 10).")
    Integer iterations;

    @Option(names = "--train", description = "--allreduce: also run salvo train for 1 epoch of Fashion-MNIST on cpu on 1 rank"
            + " and on 2 (mpirun) at the same per-rank --batch-size, and report the step-time overhead and the share of the"
            + " all-reduce hidden behind backward (summary.json's \"distributed\" object).")
    boolean train;

    /** The worker every rank runs under mpirun for --allreduce: the bucket sizes in floats. */
    @Option(names = "--allreduce-worker", hidden = true, split = ",")
    List<Integer> allreduceWorker;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (allreduceWorker != null) {
            return new BenchAllReduce(this).worker(stdout);
        }
        if (allreduce) {
            return new BenchAllReduce(this).run(stdout, err);
        }
        for (String o : new String[] {"--bucket-mb", "--iterations", "--train"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                throw new IllegalArgumentException(o + " applies to --allreduce only");
            }
        }
        if (gptShape != null) {
            return new BenchGpt(this).shape(stdout);
        }
        if (gpt) {
            return new BenchGpt(this).run(stdout, err);
        }
        for (String o : new String[] {"--text", "--eval-windows"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                throw new IllegalArgumentException(o + " applies to --gpt only");
            }
        }

        // ---- every option is checked before any work ----
        List<BenchModel> modelList = new ArrayList<>();
        for (String m : models == null ? List.of("fashion-mlp", "mlp-2048", "fashion-cnn") : models) {
            BenchModel bm = opt("--models", () -> BenchModel.parse(m));
            if (modelList.contains(bm)) {
                throw new IllegalArgumentException("--models: " + bm.name() + " is named twice");
            }
            modelList.add(bm);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        int warm = pick(warmupSteps, 10, 200);
        double maxWarm = pick(maxWarmupSeconds, 5.0, 30.0);
        int timed = pick(steps, 20, 0);
        int networkTimed = pick(steps, QUICK_NETWORK_STEPS, NETWORK_STEPS);
        double maxEpoch = pick(maxEpochSeconds, 30.0, 120.0);
        int reps = pick(repeat, 1, 3);
        int prof = pick(profileSteps, 5, 50);
        double sweep = pick(sweepSeconds, 0.3, 3.0);
        List<Integer> sizeList = sizes != null ? sizes : quick ? List.of(64, 128, 256) : List.of(128, 256, 512, 1024, 2048);
        atLeast("--warmup-steps", warm, 0);
        atLeast("--steps", timed, 0);
        atLeast("--repeat", reps, 1);
        atLeast("--profile-steps", prof, 1);
        positive("--max-warmup-seconds", maxWarm, true);
        positive("--max-epoch-seconds", maxEpoch, false);
        positive("--sweep-seconds", sweep, true);
        for (int n : sizeList) {
            if (n < 1 || n > MAX_SIZE) {
                throw new IllegalArgumentException("--sizes: every size must be in [1, " + MAX_SIZE + "], got " + n
                        + " in " + sizeList);
            }
        }
        List<String> deviceIds = deviceIds();
        Path dir = outDir(modelList);
        BenchRunner.Recipe recipe = BenchRunner.Recipe.fashionMnist(batchSize);
        BenchRunner.Options options = new BenchRunner.Options(warm, maxWarm, timed, maxEpoch, reps, prof, sweep);
        BenchRunner.Recipe netRecipe = BenchRunner.Recipe.fashionCnn(batchSize);
        BenchRunner.Options netOptions = new BenchRunner.Options(warm, maxWarm, networkTimed, maxEpoch, reps, prof, sweep);
        List<BenchModel> mlps = modelList.stream().filter(m -> !m.isNetwork()).toList();
        List<BenchModel> nets = modelList.stream().filter(BenchModel::isNetwork).toList();

        // ---- data ----
        Dataset train;
        String origin;
        // Fashion-MNIST where it is installed; random data of its shape where it is not (and no --data-dir names a place)
        String missing = synthetic || dataDir != null ? null : fashionMissing(defaultFashionDir);
        boolean useSynthetic = synthetic || missing != null;
        if (useSynthetic) {
            int rows = quick ? QUICK_SYNTHETIC_ROWS : SYNTHETIC_ROWS;
            train = syntheticData(rows);
            origin = "synthetic: " + rows + " rows of 784 random features in [0,1), random labels in 0..9 (not Fashion-MNIST"
                    + (missing == null ? "" : ", which is not installed: " + missing) + ")";
            if (missing != null) {
                err.println("bench: Fashion-MNIST is not installed (" + missing + "): timing random data of its shape instead");
                err.flush();
            }
        } else {
            try {
                DataSource.Loaded d = DataSource.load("fashion-mnist", dataDir, null, null, 0.2, 1);
                train = d.train();
                origin = d.origin();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException((dataDir != null && !e.getMessage().startsWith("--") ? "--data-dir: " : "")
                        + e.getMessage()
                        + "; or pass --synthetic for random data of the same shape", e);
            }
        }
        String dataName = useSynthetic ? "synthetic" : "fashion-mnist";
        // the CNN recipe trains on standardized inputs (statistics of these training rows), as train --normalize standardize
        Dataset netTrain = nets.isEmpty() ? null : Normalization.STANDARDIZE.apply(train).get(0);

        // what the README quotes beside a figure: the machine, the date, the exact command, the Java runtime
        Map<String, Object> machine = BenchReport.machine();
        machine.put("fma_peak", FmaPeak.measure(Runtime.getRuntime().availableProcessors(), quick ? 0.05 : 0.2,
                quick ? 3 : 5));
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String command = "salvo " + String.join(" ", spec.commandLine().getParseResult().originalArgs().stream()
                .map(BenchCommand::shellQuote).toList());
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("date", date);
        header.put("machine", machine);
        header.put("command", command);
        header.put("java_command_line", ProcessHandle.current().info().commandLine().orElse(null));
        header.put("working_directory", Path.of("").toAbsolutePath().toString());
        header.put("salvo_version", new Main.Version().getVersion()[0]);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", dataName);
        data.put("origin", origin);
        data.put("rows", train.rows());
        data.put("synthetic", useSynthetic);
        if (!nets.isEmpty()) {
            data.put("network_inputs", "standardized per feature (mean and population std of these rows)");
        }
        header.put("data", data);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("optimizer", recipe.optimizer().describe());
        rec.put("learning_rate", recipe.learningRate());
        rec.put("beta1", recipe.optimizer().beta1());
        rec.put("beta2", recipe.optimizer().beta2());
        rec.put("eps", recipe.optimizer().eps());
        rec.put("weight_decay", recipe.optimizer().weightDecay());
        rec.put("schedule", recipe.schedule().describe() + " over each timed pass");
        rec.put("batch_size", batchSize);
        rec.put("seed", recipe.seed());
        rec.put("loss_read_back", "every step");
        if (!mlps.isEmpty()) {
            header.put("recipe", rec);
        }
        if (!nets.isEmpty()) {
            Map<String, Object> cnn = new LinkedHashMap<>();
            cnn.put("models", nets.stream().map(BenchModel::name).toList());
            cnn.put("optimizer", netRecipe.optimizer().describe());
            cnn.put("learning_rate", netRecipe.learningRate());
            cnn.put("beta1", netRecipe.optimizer().beta1());
            cnn.put("beta2", netRecipe.optimizer().beta2());
            cnn.put("eps", netRecipe.optimizer().eps());
            cnn.put("weight_decay", netRecipe.optimizer().weightDecay());
            cnn.put("schedule", netRecipe.schedule().describe() + " over each timed pass");
            cnn.put("batch_size", batchSize);
            cnn.put("seed", netRecipe.seed());
            cnn.put("inputs", "standardized per feature");
            cnn.put("loss_read_back", "every step");
            header.put("cnn_recipe", cnn);
        }
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("warmup_steps", warm);
        opts.put("max_warmup_seconds", maxWarm);
        opts.put("steps", timed);
        opts.put("network_steps", networkTimed);
        opts.put("max_epoch_seconds", maxEpoch);
        opts.put("repeat", reps);
        opts.put("profile_steps", prof);
        opts.put("sizes", sizeList);
        opts.put("sweep_seconds", sweep);
        opts.put("quick", quick);
        header.put("options", opts);
        BenchReport report = new BenchReport(header);

        printMachine(stdout, machine, date, command);
        stdout.printf(Locale.ROOT, "bench:  %s: %d rows (%s)%n", dataName, train.rows(), origin);
        if (!mlps.isEmpty()) {
            stdout.printf(Locale.ROOT, "recipe: %s; models %s%n", recipe.describe(),
                    String.join(", ", mlps.stream().map(m -> m.name() + " " + m.widths()).toList()));
        }
        for (BenchModel m : nets) {
            stdout.printf(Locale.ROOT, "recipe: %s; model %s %s%n", netRecipe.describe(), m.name(), m.widths());
        }
        stdout.printf(Locale.ROOT, "timing: warm-up %d steps (<= %.0f s), %s, %d pass(es); profile %d steps; out %s%n", warm,
                maxWarm, (mlps.isEmpty() ? "" : (nets.isEmpty() ? "" : "MLPs ") + describeSteps(timed, maxEpoch))
                        + (mlps.isEmpty() || nets.isEmpty() ? "" : ", ")
                        + (nets.isEmpty() ? "" : (mlps.isEmpty() ? "" : "CNN ") + describeSteps(networkTimed, maxEpoch)),
                reps, prof, dir);
        stdout.flush();
        java.util.function.Consumer<String> progress = line -> {
            err.println("bench: " + line);
            err.flush();
        };
        BenchRunner runner = new BenchRunner(recipe, options, progress);
        BenchRunner netRunner = new BenchRunner(netRecipe, netOptions, progress);

        // ---- Salvo's devices, one at a time ----
        for (String id : deviceIds) {
            Devices.Selection sel = Devices.open(id);
            try (Device dev = sel.device()) {
                DeviceInfo info = dev.info();
                stdout.println("device: " + sel.report().get(0));
                stdout.flush();
                report.device(info.id(), info.name(), info.details());
                for (BenchModel m : modelList) {
                    BenchRunner.Run run = m.isNetwork() ? netRunner.train(dev, m, netTrain) : runner.train(dev, m, train);
                    report.add(run.training());
                    run.conv().forEach(report::add);
                    report.writeJson(dir); // partial results survive an interrupted run
                }
                for (int n : sizeList) {
                    report.add(runner.matmul(dev, n));
                }
                report.writeJson(dir);
            }
        }

        // ---- the reference, after the devices closed (nothing else running) ----
        if (noReference) {
            report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "skipped", "--no-reference", Map.of()), null);
        } else {
            new BenchReference(python, dataDir).run(report, dir, mlps, nets, recipe, options, netRecipe, netOptions, sizeList,
                    useSynthetic, train.rows(), stdout, err);
        }

        report.complete();
        report.printTables(stdout);
        report.warnAboutReferences(stdout);
        Path json = report.writeJson(dir);
        boolean drew = report.writeChart(dir, "matmul, " + BenchReport.machine().get("cpu"));
        stdout.println("wrote " + json + (drew ? ", " + dir.resolve(BenchReport.PNG)
                : " (bench.png skipped: this Java runtime has no java.desktop module)"));
        return 0;
    }

    private static String describeSteps(int steps, double maxEpoch) {
        return steps > 0 ? steps + " steps per pass" : "one epoch per pass (fewer steps if over " + maxEpoch + " s)";
    }

    /** The machine, date, command, Java and FMA peak lines every bench output starts with. */
    static void printMachine(PrintWriter stdout, Map<String, Object> machine, Object date, String command) {
        stdout.println("machine: " + BenchReport.describeCpu(machine) + ", " + machine.get("os"));
        stdout.println("date:    " + date);
        stdout.println("command: " + command);
        stdout.println("java:    " + machine.get("jdk"));
        stdout.println("fma:     " + describeFma((Map<?, ?>) machine.get("fma_peak")));
    }

    /** {@code arg} as a POSIX shell would need it: bare when it holds only safe characters, else single-quoted. */
    static String shellQuote(String arg) {
        if (!arg.isEmpty() && arg.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return arg;
        }
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    static String describeFma(Map<?, ?> fma) {
        if (!(fma.get("gflops_1_thread") instanceof dev.salvo.bench.Stats one)
                || !(fma.get("gflops_all_threads") instanceof dev.salvo.bench.Stats all)) {
            return String.valueOf(fma.get("method"));
        }
        return String.format(Locale.ROOT, "peak %.1f GFLOP/s on 1 thread, %.1f on %s (Java Vector API FMA loop, %s lanes;"
                + " see bench.json machine.fma_peak)", one.max(), all.max(), fma.get("threads"), fma.get("lanes"));
    }

    /** The devices to measure, checked (names parsed) before any work. */
    List<String> deviceIds() {
        List<String> ids = new ArrayList<>();
        if (devices == null || devices.isEmpty()) {
            for (Probe p : Devices.probeAll()) {
                if (p.isAvailable() && !p.provider().equals("reference")) {
                    for (DeviceInfo d : p.devices()) {
                        ids.add(d.id());
                    }
                }
            }
            if (ids.isEmpty()) {
                throw new IllegalArgumentException("--device: no device is available (see salvo devices)");
            }
            return ids;
        }
        for (String d : devices) {
            String s = d.trim();
            if (s.isEmpty()) {
                throw new IllegalArgumentException("--device: empty device name in " + devices);
            }
            opt("--device", () -> Devices.Selector.parse(s));
            if (ids.contains(s)) {
                throw new IllegalArgumentException("--device: " + s + " is named twice");
            }
            ids.add(s);
        }
        return ids;
    }

    /** The output folder, created and checked writable now (not after the measurements). */
    private Path outDir(List<BenchModel> modelList) {
        Path dir = out != null ? out
                : Path.of("runs", "bench-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        OutputPaths.directory("--out", dir);
        List<String> files = new ArrayList<>(List.of(BenchReport.JSON, BenchReport.PNG, PyTorchReference.SCRIPT_NAME));
        for (BenchModel m : modelList) {
            if (m.isNetwork() && !noReference) {
                files.add(m.name() + ".json"); // the network file the reference builds its model from
            }
        }
        for (String f : files) {
            OutputPaths.file("--out", dir.resolve(f));
        }
        return dir;
    }

    /** Where Fashion-MNIST is looked for without --data-dir (Debian's dataset-fashion-mnist); tests point it elsewhere. */
    static Path defaultFashionDir = StandardDatasets.SYSTEM_ROOT.resolve("fashion-mnist");

    /** Null when {@code dir} holds the four Fashion-MNIST files (plain or .gz), else what is missing and how to get it. */
    static String fashionMissing(Path dir) {
        List<String> absent = new ArrayList<>();
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                "t10k-labels-idx1-ubyte")) {
            if (!Files.isRegularFile(dir.resolve(f)) && !Files.isRegularFile(dir.resolve(f + ".gz"))) {
                absent.add(f + "[.gz]");
            }
        }
        return absent.isEmpty() ? null : "no " + String.join(", ", absent) + " in " + dir
                + "; apt-get install dataset-fashion-mnist, or --data-dir DIR";
    }

    private static Dataset syntheticData(int rows) {
        Rng rng = new Rng(42);
        int width = 784;
        float[] x = new float[rows * width];
        int[] y = new int[rows];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextDouble();
        }
        for (int i = 0; i < rows; i++) {
            y[i] = i % StandardDatasets.CLASSES;
        }
        rng.shuffle(y);
        return new Dataset("synthetic", x, y, rows, width, StandardDatasets.CLASSES);
    }

    <T> T pick(T given, T quickValue, T normal) {
        return given != null ? given : quick ? quickValue : normal;
    }

    static void atLeast(String option, int v, int min) {
        if (v < min) {
            throw new IllegalArgumentException(option + " must be at least " + min + ", got " + v);
        }
    }

    private static void positive(String option, double v, boolean zeroOk) {
        if (!Double.isFinite(v) || v < 0 || (!zeroOk && v == 0)) {
            throw new IllegalArgumentException(option + " must be a " + (zeroOk ? "non-negative" : "positive")
                    + " number of seconds, got " + v);
        }
    }

    static <T> T opt(String name, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new IllegalArgumentException(m.startsWith("--") ? m : name + ": " + m, e);
        }
    }
}
