package dev.salvo.cli;

import static dev.salvo.cli.BenchCommand.atLeast;
import static dev.salvo.cli.BenchCommand.opt;
import static dev.salvo.cli.BenchCommand.shellQuote;

import dev.salvo.bench.BenchReport;
import dev.salvo.bench.FmaPeak;
import dev.salvo.bench.PyTorchReference;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.Devices;
import dev.salvo.io.AtomicFile;
import dev.salvo.io.OutputPaths;
import dev.salvo.nn.NetworkSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;

/**
 * The GPT runs of {@link BenchCommand}: {@code salvo bench --gpt} (the baby-GPT recipe on each
 * device, then the PyTorch GPT reference on the same text) and {@code salvo bench --gpt-shape}
 * (a shape check: build a GPT, run a few timed steps, report memory and time).
 */
final class BenchGpt {

    /** Steps of a --gpt run not timed (Salvo and the reference alike). */
    static final int GPT_SKIP_STEPS = 10;

    private final BenchCommand c;
    /** The command's options these runs read, as parsed. */
    private final CommandSpec spec;
    private final List<String> devices;
    private final int batchSize;
    private final Integer steps;
    private final Integer profileSteps;
    private final String python;
    private final Path out;
    private final boolean quick;
    private final boolean noReference;
    private final boolean gpt;
    private final Path text;
    private final Integer evalWindows;
    private final List<Integer> gptShape;

    BenchGpt(BenchCommand c) {
        this.c = c;
        spec = c.spec;
        devices = c.devices;
        batchSize = c.batchSize;
        steps = c.steps;
        profileSteps = c.profileSteps;
        python = c.python;
        out = c.out;
        quick = c.quick;
        noReference = c.noReference;
        gpt = c.gpt;
        text = c.text;
        evalWindows = c.evalWindows;
        gptShape = c.gptShape;
    }

    /** {@code salvo bench --gpt-shape L,H,C,T,V}: build the GPT, run a few timed steps, report memory and time. */
    Integer shape(PrintWriter stdout) {
        if (gptShape.size() != 5) {
            throw new IllegalArgumentException("--gpt-shape expects L,H,C,T,V (five numbers, e.g. 12,12,768,1024,50257), got "
                    + gptShape);
        }
        for (int v : gptShape) {
            atLeast("--gpt-shape", v, 1);
        }
        if (gpt) {
            throw new IllegalArgumentException("--gpt-shape and --gpt are separate runs: give one");
        }
        picocli.CommandLine.ParseResult given = spec.commandLine().getParseResult();
        int batch = given.hasMatchedOption("--batch-size") ? batchSize : 4;
        int shapeSteps = steps != null ? steps : 2;
        atLeast("--batch-size", batch, 1);
        atLeast("--steps", shapeSteps, 1);
        String id = devices == null || devices.isEmpty() ? "cpu" : devices.get(0);
        dev.salvo.nn.Gpt.spec(gptShape.get(0), gptShape.get(1), gptShape.get(2), gptShape.get(3), gptShape.get(4)); // rc 2 on a bad shape
        dev.salvo.device.Devices.Selection sel = opt("--device", () -> dev.salvo.device.Devices.open(id));
        try (dev.salvo.device.Device d = sel.device()) {
            stdout.println("device: " + sel.report().get(0));
            stdout.flush();
            dev.salvo.bench.GptShape.Result r = dev.salvo.bench.GptShape.run(d, gptShape.get(0), gptShape.get(1), gptShape.get(2),
                    gptShape.get(3), gptShape.get(4), batch, shapeSteps, stdout);
            List<Double> t = r.stepSeconds();
            double[] sorted = t.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            stdout.printf(java.util.Locale.ROOT, "GPT shape: %,d parameters, first loss %.4f (ln V = %.4f), step time median %.2f s"
                    + " (min %.2f, max %.2f over %d steps, the first included), %.0f tokens/s at the median%n", r.parameters(),
                    r.firstLoss(), Math.log(gptShape.get(4)), sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1],
                    sorted.length, (double) batch * gptShape.get(3) / sorted[sorted.length / 2]);
        }
        return 0;
    }

    /** {@code salvo bench --gpt}: the GPT recipe on each device, then the PyTorch reference on the same text. */
    Integer run(PrintWriter stdout, PrintWriter err) throws IOException {
        picocli.CommandLine.ParseResult given = spec.commandLine().getParseResult();
        for (String o : new String[] {"--models", "--warmup-steps", "--max-warmup-seconds", "--max-epoch-seconds", "--repeat",
                "--sizes", "--sweep-seconds", "--data-dir", "--synthetic"}) {
            if (given.hasMatchedOption(o)) {
                throw new IllegalArgumentException(o + " does not apply to --gpt");
            }
        }
        int gptSteps = c.pick(steps, 30, 2000);
        int prof = c.pick(profileSteps, 5, 20);
        int windows = c.pick(evalWindows, 50, 1000);
        int batch = given.hasMatchedOption("--batch-size") ? batchSize : 12;
        atLeast("--steps", gptSteps, 1);
        atLeast("--profile-steps", prof, 1);
        atLeast("--eval-windows", windows, 1);
        atLeast("--batch-size", batch, 1);
        dev.salvo.bench.GptBench.Recipe recipe = dev.salvo.bench.GptBench.Recipe.babyGpt(gptSteps, batch).withEvalWindows(windows);
        List<String> deviceIds = c.deviceIds();
        Path dir = gptOutDir();
        // the text, checked before any work (a bad file is rc 2 naming it and the byte offset)
        dev.salvo.data.TextCorpus corpus = text == null
                ? dev.salvo.data.TextCorpus.of(dev.salvo.data.TextCorpus.GENESIS + " (embedded)", dev.salvo.data.TextCorpus.genesis(),
                recipe.context(), recipe.valFraction())
                : dev.salvo.data.TextCorpus.read(text, recipe.context(), recipe.valFraction());
        NetworkSpec net = dev.salvo.nn.Gpt.spec(recipe.layers(), recipe.heads(), recipe.embd(), recipe.context(),
                corpus.vocabulary().size());

        Map<String, Object> machine = BenchReport.machine();
        machine.put("fma_peak", FmaPeak.measure(Runtime.getRuntime().availableProcessors(), quick ? 0.05 : 0.2, quick ? 3 : 5));
        String date = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        String command = "salvo " + String.join(" ", given.originalArgs().stream().map(BenchCommand::shellQuote).toList());
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("date", date);
        header.put("machine", machine);
        header.put("command", command);
        header.put("java_command_line", ProcessHandle.current().info().commandLine().orElse(null));
        header.put("working_directory", Path.of("").toAbsolutePath().toString());
        header.put("salvo_version", new Main.Version().getVersion()[0]);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("name", corpus.name());
        data.put("path", text == null ? null : text.toAbsolutePath().toString());
        data.put("characters", corpus.length());
        data.put("vocabulary", corpus.vocabulary().size());
        data.put("train_characters", corpus.trainLength());
        data.put("validation_characters", corpus.validationLength());
        data.put("sha256", TextTraining.fingerprint(corpus));
        data.put("embedded_excerpt", text == null);
        header.put("data", data);
        Map<String, Object> rec = new LinkedHashMap<>();
        rec.put("model", recipe.model());
        rec.put("layers", recipe.layers());
        rec.put("heads", recipe.heads());
        rec.put("embd", recipe.embd());
        rec.put("context", recipe.context());
        rec.put("vocab", corpus.vocabulary().size());
        rec.put("network", net.describe());
        rec.put("batch_size", recipe.batchSize());
        rec.put("steps", recipe.steps());
        rec.put("optimizer", recipe.optimizer().describe());
        rec.put("learning_rate", recipe.learningRate());
        rec.put("min_learning_rate", recipe.minLearningRate());
        rec.put("warmup_steps", recipe.warmup());
        rec.put("schedule", recipe.schedule().describe() + " to the minimum at the last step");
        rec.put("beta1", recipe.beta1());
        rec.put("beta2", recipe.beta2());
        rec.put("eps", recipe.eps());
        rec.put("weight_decay", recipe.weightDecay());
        rec.put("decay_params", "matrices");
        rec.put("clip_norm", recipe.clipNorm());
        rec.put("val_fraction", recipe.valFraction());
        rec.put("eval_windows", recipe.evalWindows());
        rec.put("seed", recipe.seed());
        header.put("gpt_recipe", rec);
        Map<String, Object> opts = new LinkedHashMap<>();
        opts.put("steps", gptSteps);
        opts.put("skipped_steps", GPT_SKIP_STEPS);
        opts.put("profile_steps", prof);
        opts.put("eval_windows", windows);
        opts.put("quick", quick);
        header.put("options", opts);
        BenchReport report = new BenchReport(header);

        BenchCommand.printMachine(stdout, machine, date, command);
        stdout.printf(Locale.ROOT, "data:    %s: %d characters, vocabulary %d, %d train / %d validation%s%n", corpus.name(),
                corpus.length(), corpus.vocabulary().size(), corpus.trainLength(), corpus.validationLength(),
                text == null ? " (an excerpt: the recipe's corpus is the whole KJV, --text kjv.txt)" : "");
        stdout.println("recipe:  " + recipe.describe());
        stdout.printf(Locale.ROOT, "timing:  every step, the first %d not timed; profile %d steps; out %s%n", GPT_SKIP_STEPS, prof, dir);
        stdout.flush();
        java.util.function.Consumer<String> progress = line -> {
            err.println("bench: " + line);
            err.flush();
        };
        dev.salvo.bench.GptBench bench = new dev.salvo.bench.GptBench(recipe, GPT_SKIP_STEPS, prof, progress);
        for (String id : deviceIds) {
            Devices.Selection sel = Devices.open(id);
            try (Device dev = sel.device()) {
                DeviceInfo info = dev.info();
                stdout.println("device: " + sel.report().get(0));
                stdout.flush();
                report.device(info.id(), info.name(), info.details());
                report.add(bench.run(dev, net, corpus));
                report.writeJson(dir); // partial results survive an interrupted run
            }
        }

        // ---- the reference, after the devices closed ----
        if (noReference) {
            report.gptReference(new BenchReport.Reference(PyTorchReference.SOURCE, "skipped", "--no-reference", Map.of()), null);
        } else {
            runGptReference(report, dir, recipe, corpus, stdout, err);
        }
        report.complete();
        report.printTables(stdout);
        report.warnAboutReferences(stdout);
        Path json = report.writeJson(dir);
        stdout.println("wrote " + json);
        return 0;
    }

    private void runGptReference(BenchReport report, Path dir, dev.salvo.bench.GptBench.Recipe recipe,
                                 dev.salvo.data.TextCorpus corpus, PrintWriter stdout, PrintWriter err) {
        StringBuilder why = new StringBuilder();
        String py = PyTorchReference.findPython(python, why);
        if (py == null) {
            String msg = "no Python with torch and numpy (" + why + "); install python3-torch python3-numpy, or --python PATH";
            stdout.println("reference: pytorch skipped: " + msg);
            report.gptReference(new BenchReport.Reference(PyTorchReference.SOURCE, "skipped", msg, Map.of()), null);
            return;
        }
        List<String> args;
        Path script;
        try {
            script = PyTorchReference.extractGpt(dir);
            Path textFile = text;
            if (textFile == null) { // the embedded excerpt, written beside bench.json for the script
                textFile = dir.resolve(GENESIS_FILE);
                AtomicFile.write(textFile, dev.salvo.data.TextCorpus.genesis());
            }
            args = recipe.pytorchArgs(textFile, Runtime.getRuntime().availableProcessors(), GPT_SKIP_STEPS);
        } catch (IOException e) {
            stdout.println("reference: pytorch failed: " + e.getMessage());
            report.gptReference(new BenchReport.Reference(PyTorchReference.SOURCE, "failed", e.getMessage(), Map.of()), null);
            return;
        }
        try {
            Map<String, String> removed = BenchReference.announce(py, script, args, stdout);
            PyTorchReference.GptResult r = PyTorchReference.runGpt(py, script, args, line -> {
                err.println("bench: " + line);
                err.flush();
            });
            Object vocab = r.info().get("text") instanceof Map<?, ?> t ? t.get("vocab") : null;
            if (vocab instanceof Number v && v.intValue() != corpus.vocabulary().size()) {
                throw new IOException("the script read a vocabulary of " + v + " characters, Salvo "
                        + corpus.vocabulary().size() + ": not the same text");
            }
            stdout.println("reference: " + r.description());
            Map<String, Object> info = new LinkedHashMap<>(r.info());
            info.put("python", py);
            info.put("script", script.toString());
            info.put("arguments", args);
            info.put("environment_removed", removed);
            report.gptReference(new BenchReport.Reference(PyTorchReference.SOURCE, "ok", r.description(), info), r);
        } catch (IOException e) {
            stdout.println("reference: pytorch failed: " + e.getMessage());
            report.gptReference(new BenchReport.Reference(PyTorchReference.SOURCE, "failed", e.getMessage(), Map.of()), null);
        }
    }

    /** The embedded excerpt's file name beside bench.json, for the reference. */
    static final String GENESIS_FILE = "kjv-genesis.txt";

    /** The --gpt output folder, created and checked writable now. */
    private Path gptOutDir() {
        Path dir = out != null ? out
                : Path.of("runs", "bench-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        OutputPaths.directory("--out", dir);
        List<String> files = new ArrayList<>(List.of(BenchReport.JSON));
        if (!noReference) {
            files.addAll(List.of(PyTorchReference.SCRIPT_NAME, PyTorchReference.GPT_SCRIPT_NAME));
            if (text == null) {
                files.add(GENESIS_FILE);
            }
        }
        for (String f : files) {
            OutputPaths.file("--out", dir.resolve(f));
        }
        return dir;
    }
}
