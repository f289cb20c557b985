package dev.salvo.cli;

import static dev.salvo.cli.BenchCommand.shellQuote;

import dev.salvo.bench.BenchModel;
import dev.salvo.bench.BenchReport;
import dev.salvo.bench.BenchRunner;
import dev.salvo.bench.PyTorchReference;
import dev.salvo.io.AtomicFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The PyTorch reference of {@code salvo bench} (without {@code --gpt}): pytorch_bench.py, written
 * beside bench.json, run once per recipe (the MLPs with the matmul sweep, then the network files)
 * on the same data, its measurements (or why it was skipped or failed) added to the report.
 */
final class BenchReference {

    /** {@code --python}: the interpreter to use (null: look for one with torch and numpy). */
    private final String python;
    /** {@code --data-dir} (null: the default place), passed on to the script. */
    private final Path dataDir;

    BenchReference(String python, Path dataDir) {
        this.python = python;
        this.dataDir = dataDir;
    }

    /** Runs the reference for the MLPs {@code mlps} and the networks {@code nets} and adds what it measured to {@code report}. */
    void run(BenchReport report, Path dir, List<BenchModel> mlps, List<BenchModel> nets,
             BenchRunner.Recipe recipe, BenchRunner.Options o, BenchRunner.Recipe netRecipe,
             BenchRunner.Options netO, List<Integer> sizeList, boolean useSynthetic, int rows,
             PrintWriter stdout, PrintWriter err) {
        StringBuilder why = new StringBuilder();
        String py = PyTorchReference.findPython(python, why);
        if (py == null) {
            String msg = "no Python with torch and numpy (" + why + "); install python3-torch python3-numpy, or --python PATH";
            stdout.println("reference: pytorch skipped: " + msg);
            report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "skipped", msg, Map.of()), null);
            return;
        }
        Path script;
        try {
            script = PyTorchReference.extract(dir);
        } catch (IOException e) {
            stdout.println("reference: pytorch failed: " + e.getMessage());
            report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "failed", e.getMessage(), Map.of()), null);
            return;
        }
        // one run of the script per recipe: the MLPs (with the matmul sweep), then the networks (the CNN recipe)
        if (!mlps.isEmpty()) {
            List<String> args = new ArrayList<>();
            for (BenchModel m : mlps) {
                args.add("--model");
                args.add(m.name() + "=" + String.join(",", m.layers().stream().map(String::valueOf).toList()));
            }
            args.addAll(referenceArgs(recipe, o, sizeList, useSynthetic, rows));
            runScript(report, py, script, args, stdout, err);
        }
        if (!nets.isEmpty()) {
            List<String> args = new ArrayList<>();
            try {
                for (BenchModel m : nets) {
                    Path file = dir.resolve(m.name() + ".json");
                    AtomicFile.write(file, m.json().getBytes(StandardCharsets.UTF_8));
                    args.add("--net");
                    args.add(m.name() + "=" + file);
                }
            } catch (IOException e) {
                stdout.println("reference: pytorch failed: " + e.getMessage());
                report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "failed", e.getMessage(), Map.of()), null);
                return;
            }
            args.addAll(List.of("--normalize", "standardize", "--conv-seconds", Double.toString(o.sweepSeconds())));
            args.addAll(referenceArgs(netRecipe, netO, mlps.isEmpty() ? sizeList : List.of(), useSynthetic, rows));
            runScript(report, py, script, args, stdout, err);
        }
    }

    /** The script's options for a recipe: data, optimizer, timing, matmul sizes, threads = cores. */
    private List<String> referenceArgs(BenchRunner.Recipe recipe, BenchRunner.Options o, List<Integer> sizeList,
                                       boolean useSynthetic, int rows) {
        List<String> args = new ArrayList<>();
        if (useSynthetic) {
            args.addAll(List.of("--synthetic", Integer.toString(rows)));
        } else if (dataDir != null) {
            args.addAll(List.of("--data-dir", dataDir.toString()));
        }
        args.addAll(List.of("--batch-size", Integer.toString(recipe.batchSize()),
                "--lr", Double.toString(recipe.learningRate()),
                "--beta1", Double.toString(recipe.optimizer().beta1()),
                "--beta2", Double.toString(recipe.optimizer().beta2()),
                "--eps", Double.toString(recipe.optimizer().eps()),
                "--weight-decay", Double.toString(recipe.optimizer().weightDecay()),
                "--warmup-steps", Integer.toString(o.warmupSteps()),
                "--max-warmup-seconds", Double.toString(o.maxWarmupSeconds()),
                "--steps", Integer.toString(o.steps()),
                "--max-epoch-seconds", Double.toString(o.maxEpochSeconds()),
                "--repeat", Integer.toString(o.repeat()),
                "--sizes", String.join(",", sizeList.stream().map(String::valueOf).toList()),
                "--sweep-seconds", Double.toString(o.sweepSeconds()),
                "--threads", Integer.toString(Runtime.getRuntime().availableProcessors()),
                "--seed", Long.toString(recipe.seed())));
        return args;
    }

    /**
     * Prints the reference's command line and environment (OMP_WAIT_POLICY, and the OpenBLAS
     * variables removed for its process only); returns those removed.
     */
    static Map<String, String> announce(String py, Path script, List<String> args, PrintWriter stdout) {
        Map<String, String> removed = PyTorchReference.removedFrom(System.getenv());
        stdout.println("reference: " + shellQuote(py) + " " + shellQuote(script.toString()) + " "
                + String.join(" ", args.stream().map(BenchCommand::shellQuote).toList())
                + " (environment: OMP_WAIT_POLICY=PASSIVE unless set" + (removed.isEmpty() ? "" : "; without "
                + String.join(", ", removed.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList())
                + ", so OpenBLAS picks its own kernel") + ")");
        stdout.flush();
        return removed;
    }

    /** Runs the script once and adds what it measured (or why it failed) to the report. */
    private static void runScript(BenchReport report, String py, Path script, List<String> args, PrintWriter stdout,
                                  PrintWriter err) {
        try {
            Map<String, String> removed = announce(py, script, args, stdout);
            PyTorchReference.Result r = PyTorchReference.run(py, script, args, line -> {
                err.println("bench: " + line);
                err.flush();
            });
            stdout.println("reference: " + r.description());
            Map<String, Object> info = new LinkedHashMap<>(r.info());
            info.put("python", py);
            info.put("script", script.toString());
            info.put("arguments", args);
            info.put("environment_removed", removed);
            report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "ok", r.description(), info), r);
        } catch (IOException e) {
            stdout.println("reference: pytorch failed: " + e.getMessage());
            report.reference(new BenchReport.Reference(PyTorchReference.SOURCE, "failed", e.getMessage(), Map.of()), null);
        }
    }
}
