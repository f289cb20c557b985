package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.InputFiles;
import dev.salvo.io.ModelFile;
import dev.salvo.nn.Model;
import dev.salvo.train.Evaluator;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo eval}: loss, accuracy, per-class precision and recall, and the confusion matrix of a saved model. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a saved model on the test split of a dataset (or a whole CSV file).",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model file written by salvo train (safetensors).")
    Path modelFile;

    @Option(names = "--data", description = "digits, fashion-mnist, mnist or csv:PATH (default: the dataset the model was trained on).")
    String data;

    @Option(names = "--data-dir", description = "Directory of the IDX files of fashion-mnist/mnist.")
    Path dataDir;

    @Option(names = "--label-column", description = "CSV: the label column, by header name or 0-based index (default: the last).")
    String labelColumn;

    @Option(names = "--header", negatable = true, description = "CSV: the first row is (or is not) a header (default: detected).")
    Boolean header;

    @Option(names = "--device", description = "auto, cpu, opencl[:N], cuda[:N], reference.")
    String device;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "256", description = "Rows per evaluation batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        ModelFile.Loaded m = loadModel(modelFile);
        String name = data != null ? data : m.metadata().getOrDefault("dataset", "");
        Dataset test = evaluationData(name, dataDir, labelColumn, header, m);
        Devices.Selection sel = Devices.open(device);
        int capacity = Math.max(1, Math.min(batchSize, test.rows())); // buffers for the rows there are, not for -b
        try (Device dev = sel.device(); Model model = new Model(dev, m.spec(), m.parameters(), capacity)) {
            Evaluator.Report r = Evaluator.run(model, test);
            out.printf(Locale.ROOT, "model %s (%s) on %s, %d rows, device %s%n", modelFile, m.spec().describe(), test.name(),
                    r.rows(), dev.info().id());
            out.printf(Locale.ROOT, "loss %.4f  accuracy %s%n", r.loss(), Format.percent(r.accuracy()));
            int c = r.confusion().length;
            out.println("class  precision  recall   support");
            for (int k = 0; k < c; k++) {
                long support = 0;
                for (long v : r.confusion()[k]) {
                    support += v;
                }
                out.printf(Locale.ROOT, "%5d  %9s  %7s  %7d%n", k, pct(r.precision(k)), pct(r.recall(k)), support);
            }
            out.println("confusion matrix (rows: true class, columns: predicted)");
            StringBuilder head = new StringBuilder("      ");
            for (int k = 0; k < c; k++) {
                head.append(String.format(Locale.ROOT, "%6d", k));
            }
            out.println(head);
            for (int t = 0; t < c; t++) {
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%5d ", t));
                for (int p = 0; p < c; p++) {
                    row.append(String.format(Locale.ROOT, "%6d", r.confusion()[t][p]));
                }
                out.println(row);
            }
        }
        return 0;
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.2f%%", 100 * v);
    }

    static ModelFile.Loaded loadModel(Path file) {
        InputFiles.requireFile("--model", file);
        return ModelFile.load(file);
    }

    /** The test split of {@code name} (the whole file for a CSV), prepared with the model's input transform. */
    static Dataset evaluationData(String name, Path dataDir, String labelColumn, Boolean header, ModelFile.Loaded m) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("--data: the model does not say which dataset it was trained on; name one ("
                    + DataSource.EXPECTED + ")");
        }
        Dataset d;
        if (name.equals("digits") || name.equals("fashion-mnist") || name.equals("mnist")) {
            d = DataSource.load(name, dataDir, null, null, 0.2, 1).test();
        } else {
            String path = name.startsWith("csv:") ? name.substring(4) : name;
            if (!java.nio.file.Files.exists(Path.of(path))) {
                throw new IllegalArgumentException("--data: no such file " + path + " (expected " + DataSource.EXPECTED + ")");
            }
            InputFiles.requireFile("--data", Path.of(path));
            try {
                d = dev.salvo.data.Csv.read(Path.of(path), new dev.salvo.data.Csv.Options(header, labelColumn, ','));
            } catch (OutOfMemoryError e) {
                throw DataSource.heapTooSmall("csv:" + path, null, 2);
            }
        }
        return m.transform().apply(d);
    }
}
