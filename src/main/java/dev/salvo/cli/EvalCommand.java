package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.util.InputFiles;
import dev.salvo.io.ModelFile;
import dev.salvo.nn.Model;
import dev.salvo.train.Evaluation;
import dev.salvo.train.Evaluator;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.Trainer;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo eval}: loss, accuracy, per-class precision and recall, and the confusion matrix of a saved model. */
@Command(name = "eval", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Evaluate a saved model on the test split of its dataset (or every row of a CSV file).",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class EvalCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model file written by salvo train (safetensors).")
    Path modelFile;

    @Option(names = "--data", description = {"digits, fashion-mnist, mnist or csv:PATH (every row of the file); for a language"
            + " model text:PATH or kjv-genesis (its last --val-fraction, through the model's vocabulary).",
            "Default: the test split of the dataset the model was trained on (for a CSV: the rows held out in training)."})
    String data;

    @Option(names = "--data-dir", description = "Directory of the IDX files of fashion-mnist/mnist.")
    Path dataDir;

    @Option(names = "--label-column", description = "CSV: the label column, by header name or 0-based index (default: the model's, else the last).")
    String labelColumn;

    @Option(names = "--header", negatable = true, description = "CSV: the first row is (or is not) a header (default: the model's, else detected).")
    Boolean header;

    @Option(names = "--device", description = "auto, cpu, opencl[:N], cuda[:N], reference.")
    String device;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "256", description = "Rows per evaluation batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--val-fraction", defaultValue = "0.1",
            description = "Text: the share at the end of the text that is scored, in (0, 1] (1: all of it). Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Option(names = "--eval-windows", defaultValue = "1000",
            description = "Text: most windows scored (consecutive, non-overlapping, evenly spaced when there are more). Default: ${DEFAULT-VALUE}.")
    int evalWindows;

    /** Model metadata written by {@code salvo train} for a CSV dataset: what eval needs to score the same test split. */
    static final String DATA_PATH = "data_path";
    static final String DATA_SHA256 = "data_sha256";
    static final String TEST_FRACTION = "test_fraction";
    static final String SPLIT_SEED = "split_seed";
    static final String LABEL_COLUMN = "label_column";
    static final String HEADER = "header";

    /** The rows to score, a line saying which they are, and a warning (or null). */
    record Scored(Dataset data, String origin, String warning) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        ModelFile.Loaded m = loadModel(modelFile);
        if (m.metadata().containsKey(dev.salvo.data.Vocabulary.METADATA_KEY) || (data != null && TextTraining.isText(data))) {
            return evalText(m, out);
        }
        Scored scored = evaluationData(data, dataDir, labelColumn, header, m, modelFile);
        if (scored.warning() != null) {
            PrintWriter err = spec.commandLine().getErr();
            err.println("salvo eval: warning: " + scored.warning());
            err.flush();
        }
        Dataset test = scored.data();
        Devices.Selection sel = Devices.open(device);
        int capacity = Math.max(1, Math.min(batchSize, test.rows())); // buffers for the rows there are, not for -b
        try (Device dev = sel.device(); Model model = m.open(dev, capacity)) {
            Evaluator.Report r = Evaluator.run(model, test);
            out.printf(Locale.ROOT, "model %s (%s) on %s, %d rows, device %s%n", modelFile, m.spec().describe(), test.name(),
                    r.rows(), dev.info().id());
            out.println("data: " + scored.origin());
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

    /**
     * A character language model on {@code --data text:PATH} (or {@code kjv-genesis}), mapped
     * through the model's vocabulary: the mean cross-entropy and next-character accuracy over the
     * windows of the last {@code --val-fraction} of the text, as training's validation counts them.
     */
    private int evalText(ModelFile.Loaded m, PrintWriter out) {
        dev.salvo.data.Vocabulary vocab = TextTraining.vocabulary(modelFile, m.metadata());
        if (data == null) {
            throw new IllegalArgumentException("--data text:PATH is needed to evaluate the language model " + modelFile);
        }
        if (!TextTraining.isText(data)) {
            throw new IllegalArgumentException("--data " + data + ": the model " + modelFile + " is a character language model;"
                    + " give text:PATH or " + dev.salvo.data.TextCorpus.GENESIS);
        }
        if (!(valFraction > 0 && valFraction <= 1)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 1], got " + valFraction);
        }
        if (evalWindows < 1) {
            throw new IllegalArgumentException("--eval-windows must be at least 1, got " + evalWindows);
        }
        int t = m.spec().inputs();
        if (m.spec().positions() != t || m.spec().classes() != vocab.size()) {
            throw new IllegalArgumentException("--model " + modelFile + ": not a character language model over its vocabulary of "
                    + vocab.size() + " characters");
        }
        dev.salvo.data.TextCorpus corpus = TextTraining.load(data, vocab, t, valFraction);
        dev.salvo.train.TextWindows text = new dev.salvo.train.TextWindows(corpus.name(), corpus.tokens(), corpus.trainLength(),
                vocab.size(), t, 1, 1, evalWindows);
        int windows = text.validationStarts().length;
        Devices.Selection sel = Devices.open(device);
        int capacity = Math.max(1, Math.min(batchSize, windows));
        try (Device dev = sel.device(); Model model = m.open(dev, capacity);
             Trainer trainer = new Trainer(model, TrainConfig.defaults()
                     .withBatchSize(capacity).withEpochs(1))) {
            Evaluation e = trainer.evaluateText(text);
            out.printf(Locale.ROOT, "model %s (%s) on %s, device %s%n", modelFile, m.spec().describe(), corpus.name(), dev.info().id());
            out.printf(Locale.ROOT, "data: the last %d of %d characters (--val-fraction %s), %d windows of %d%n",
                    corpus.validationLength(), corpus.length(), valFraction, windows, t);
            out.printf(Locale.ROOT, "loss %.4f  next-character accuracy %s%n", e.loss(), Format.percent(e.accuracy()));
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

    /**
     * The rows to score, prepared with the model's input transform. Without {@code --data}: the
     * test split of the dataset the model was trained on; for a CSV, the split the training held
     * out (the same file, checked by its SHA-256, test fraction, seed, label column and header,
     * all stored in the model). With {@code --data csv:PATH}: every row of that file, with a warning
     * when it is the file the model was trained on.
     */
    static Scored evaluationData(String data, Path dataDir, String labelColumn, Boolean header, ModelFile.Loaded m, Path modelFile) {
        Map<String, String> meta = m.metadata();
        String label = labelColumn != null ? labelColumn : meta.get(LABEL_COLUMN);
        Boolean head = header != null ? header : meta.containsKey(HEADER) ? Boolean.valueOf(meta.get(HEADER)) : null;
        String trainedOn = meta.get(DATA_PATH);
        if (data == null && trainedOn != null) {
            Path csv = Path.of(trainedOn);
            if (!Files.isRegularFile(csv)) {
                throw new IllegalArgumentException("--data: the model was trained on " + csv + ", which is not there any more (moved or "
                        + "deleted); name the data with --data csv:PATH (that scores every row of it)");
            }
            String sha = meta.get(DATA_SHA256);
            if (sha != null && !sha.equalsIgnoreCase(DataSource.sha256(csv))) {
                throw new IllegalArgumentException("--data: " + csv + " changed since the model was trained on it (its SHA-256 differs), "
                        + "so its test split is no longer the rows held out in training; --data csv:" + csv + " scores every row of it");
            }
            double fraction = number(modelFile, TEST_FRACTION, meta);
            long seed = (long) number(modelFile, SPLIT_SEED, meta);
            DataSource.Loaded src = DataSource.load("csv:" + csv, null, label, head, fraction, seed);
            return new Scored(m.transform().apply(src.test()), String.format(Locale.ROOT,
                    "the test split of %s held out in training (stratified, test fraction %s, seed %d)", csv, fraction, seed), null);
        }
        String name = data != null ? data : meta.getOrDefault("dataset", "");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("--data: the model does not say which dataset it was trained on; name one ("
                    + DataSource.EXPECTED + ")");
        }
        if (name.equals("digits") || name.equals("fashion-mnist") || name.equals("mnist")) {
            DataSource.Loaded src = DataSource.load(name, dataDir, null, null, 0.2, 1);
            return new Scored(m.transform().apply(src.test()), "the test split of " + name + " (" + src.origin() + ")", null);
        }
        if (data == null) { // a CSV model from before data_path was recorded
            throw new IllegalArgumentException("--data: the model was trained on a CSV file (" + name + ") but does not record where "
                    + "it is (written by an older salvo train); name it with --data csv:PATH");
        }
        String path = name.startsWith("csv:") ? name.substring(4) : name;
        Path csv = Path.of(path);
        if (!Files.exists(csv)) {
            throw new IllegalArgumentException("--data: no such file " + path + " (expected " + DataSource.EXPECTED + ")");
        }
        InputFiles.requireFile("--data", csv);
        Dataset d;
        try {
            d = dev.salvo.data.Csv.read(csv, new dev.salvo.data.Csv.Options(head, label, ','));
        } catch (OutOfMemoryError e) {
            throw DataSource.heapTooSmall("csv:" + path, null, 2);
        }
        String warning = null;
        if (trainedOn != null && sameFile(csv, Path.of(trainedOn), meta.get(DATA_SHA256))) {
            warning = csv + " is the file this model was trained on: scoring all " + d.rows() + " rows, including those it trained "
                    + "on (without --data, eval scores only the test split held out in training)";
        }
        return new Scored(m.transform().apply(d), "every row of " + csv, warning);
    }

    /** The same file, or a copy of it (the same SHA-256). */
    private static boolean sameFile(Path a, Path b, String sha256OfB) {
        try {
            if (Files.exists(b) && Files.isSameFile(a, b)) {
                return true;
            }
        } catch (java.io.IOException e) {
            // compare contents below
        }
        return sha256OfB != null && sha256OfB.equalsIgnoreCase(DataSource.sha256(a));
    }

    private static double number(Path modelFile, String key, Map<String, String> meta) {
        try {
            return Double.parseDouble(meta.get(key));
        } catch (NullPointerException | NumberFormatException e) {
            throw new dev.salvo.io.SafeTensorsException(modelFile, "__metadata__." + key, "expected a number (the model records "
                    + DATA_PATH + " and so must record how it was split), got " + meta.get(key));
        }
    }
}
