package dev.salvo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.data.Csv;
import dev.salvo.data.Dataset;
import dev.salvo.data.Idx;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.AtomicFile;
import dev.salvo.util.InputFiles;
import dev.salvo.io.ModelFile;
import dev.salvo.io.OutputPaths;
import dev.salvo.nn.Model;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo predict}: the class (and its probability) of each input row, or its top K, or every probability. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Predict the class of each input row with a saved model: one line per row (row, class, probability).",
                "Input: a CSV of feature columns only (header optional), or an IDX image file (MNIST format).",
                "Class names are shown beside the class numbers when the model has them (a model trained on "
                        + "fashion-mnist stores its ten names in its metadata, under class_names)."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class PredictCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model file written by salvo train (safetensors).")
    Path modelFile;

    @Option(names = "--input", required = true, description = "CSV of features (as many columns as the model's inputs) or an IDX images file.")
    Path input;

    @Option(names = "--format", defaultValue = "csv", description = "csv or json. Default: ${DEFAULT-VALUE}.")
    String format;

    @Option(names = "--top", paramLabel = "K",
            description = "The K most likely classes of each row, best first (K from 1 to the model's classes): csv "
                    + "row,rank,class[,name],probability, K lines per row; json a \"top\" list in each row.")
    Integer top;

    @Option(names = "--probabilities",
            description = "The probability of every class, in class order: csv one more column per class (headed by "
                    + "the class name, or p<k>); json a \"probabilities\" list in each row.")
    boolean probabilities;

    @Option(names = "--output", description = "Write here (atomically) instead of standard output.")
    Path output;

    @Option(names = "--device", description = "auto, cpu, opencl[:N], cuda[:N], reference.")
    String device;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "256", description = "Rows per batch. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Override
    public Integer call() throws IOException {
        if (!format.equals("csv") && !format.equals("json")) {
            throw new IllegalArgumentException("--format: expected csv or json, got '" + format + "'");
        }
        if (output != null) {
            OutputPaths.file("--output", output);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (top != null && probabilities) {
            throw new IllegalArgumentException("--top and --probabilities: give one of them (--probabilities lists every class)");
        }
        InputFiles.requireFile("--input", input);
        ModelFile.Loaded m = EvalCommand.loadModel(modelFile);
        int c = m.spec().outputs();
        if (top != null && (top < 1 || top > c)) {
            throw new IllegalArgumentException("--top must be between 1 and " + c + " (the model's classes), got " + top);
        }
        List<String> names = ClassNames.read(m.metadata(), c, modelFile);
        Dataset rows;
        try {
            rows = m.transform().apply(read(input, m.spec().inputs()));
        } catch (OutOfMemoryError e) {
            throw heapTooSmall(input);
        }
        boolean softmaxLayer = m.spec().layers().get(m.spec().layers().size() - 1).fusesIntoCrossEntropy();
        float[] prob = new float[rows.rows() * c];
        float[] outputs = new float[rows.rows() * c]; // the network's outputs, which rank the classes
        int batch = Math.max(1, Math.min(batchSize, rows.rows())); // buffers for the rows there are, not for -b
        try (Device dev = Devices.open(device).device(); Model model = m.open(dev, batch)) {
            int f = rows.width();
            float[] logits = new float[batch * c];
            for (int from = 0; from < rows.rows(); from += batch) {
                int n = Math.min(batch, rows.rows() - from);
                float[] x = new float[n * f];
                System.arraycopy(rows.features(), from * f, x, 0, n * f);
                dev.upload(x, model.input().slice(0, (long) n * f));
                model.forward(n);
                dev.download(model.output().slice(0, (long) n * c), logits);
                for (int r = 0; r < n; r++) {
                    probabilities(logits, r * c, c, prob, (from + r) * c, softmaxLayer);
                    System.arraycopy(logits, r * c, outputs, (from + r) * c, c);
                }
            }
        }
        byte[] text = render(prob, outputs, rows.rows(), c, names);
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(new String(text, StandardCharsets.UTF_8));
            out.flush();
        } else {
            AtomicFile.write(output, text);
        }
        return 0;
    }

    /** The error for an input file that does not fit in the Java heap, with the rows its header or lines declare. */
    private static IllegalArgumentException heapTooSmall(Path file) {
        long[] shape = null;
        int[] dims = Idx.dims(file);
        if (dims != null) {
            long width = 1;
            for (int i = 1; i < dims.length; i++) {
                width *= dims[i];
            }
            shape = new long[] {dims[0], width, 0};
        } else {
            long[] lines = Csv.countLines(file);
            shape = lines == null ? null : new long[] {lines[0], lines[1], 1};
        }
        // the rows as read, and with the model's input transform applied
        return DataSource.heapTooSmall("--input", file.toString(), shape, false, 2);
    }

    /**
     * The class probabilities of one row: the softmax of the logits {@code z[o .. o+c)} (in double,
     * max-subtracted), or the outputs themselves after a softmax layer, into {@code p[po .. po+c)}.
     */
    static void probabilities(float[] z, int o, int c, float[] p, int po, boolean alreadyProbabilities) {
        if (alreadyProbabilities) {
            System.arraycopy(z, o, p, po, c);
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < c; k++) {
            max = Math.max(max, z[o + k]);
        }
        double s = 0;
        for (int k = 0; k < c; k++) {
            s += Math.exp(z[o + k] - max);
        }
        for (int k = 0; k < c; k++) {
            p[po + k] = (float) (Math.exp(z[o + k] - max) / s);
        }
    }

    /**
     * The classes of row {@code r} from the largest output to the smallest (ties: the lower class
     * first). Outputs, not probabilities, decide, as the device's argmax does: a NaN output ranks
     * above every number (the first NaN first, as {@code torch.argmax}), while its row's
     * probabilities are all NaN.
     */
    static Integer[] ranked(float[] p, int r, int c) {
        Integer[] order = new Integer[c];
        for (int k = 0; k < c; k++) {
            order[k] = k;
        }
        java.util.Arrays.sort(order, (a, b) -> {
            int cmp = Float.compare(p[r * c + b], p[r * c + a]);
            return cmp != 0 ? cmp : Integer.compare(a, b);
        });
        return order;
    }

    private byte[] render(float[] prob, float[] outputs, int rows, int c, List<String> names) {
        boolean named = !names.isEmpty();
        int k = top != null ? top : 1;
        if (format.equals("json")) {
            ObjectMapper json = new ObjectMapper();
            ArrayNode arr = json.createArrayNode();
            for (int i = 0; i < rows; i++) {
                Integer[] order = ranked(outputs, i, c);
                ObjectNode row = arr.addObject().put("row", i);
                entry(row, order[0], prob[i * c + order[0]], names);
                if (top != null) {
                    ArrayNode list = row.putArray("top");
                    for (int j = 0; j < k; j++) {
                        entry(list.addObject().put("rank", j + 1), order[j], prob[i * c + order[j]], names);
                    }
                }
                if (probabilities) {
                    ArrayNode list = row.putArray("probabilities");
                    for (int j = 0; j < c; j++) {
                        entry(list.addObject(), j, prob[i * c + j], names);
                    }
                }
            }
            try {
                return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        StringBuilder sb = new StringBuilder("row,");
        sb.append(top != null ? "rank," : "").append("class,").append(named ? "name," : "").append("probability");
        if (probabilities) {
            for (int j = 0; j < c; j++) {
                sb.append(',').append(named ? csv(names.get(j)) : "p" + j);
            }
        }
        sb.append('\n');
        for (int i = 0; i < rows; i++) {
            Integer[] order = ranked(outputs, i, c);
            for (int j = 0; j < k; j++) {
                int cls = order[j];
                sb.append(i).append(',');
                if (top != null) {
                    sb.append(j + 1).append(',');
                }
                sb.append(cls).append(',');
                if (named) {
                    sb.append(csv(names.get(cls))).append(',');
                }
                sb.append(String.format(Locale.ROOT, "%.6f", prob[i * c + cls]));
                if (probabilities) {
                    for (int q = 0; q < c; q++) {
                        sb.append(',').append(String.format(Locale.ROOT, "%.6f", prob[i * c + q]));
                    }
                }
                sb.append('\n');
            }
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static void entry(ObjectNode o, int cls, float p, List<String> names) {
        o.put("class", cls);
        if (!names.isEmpty()) {
            o.put("name", names.get(cls));
        }
        o.put("probability", p);
    }

    /** A CSV cell: quoted (quotes doubled) when it holds a comma, a quote or a line break. */
    static String csv(String s) {
        return s.matches("(?s).*[\",\r\n].*") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** Features from a CSV (all columns are features) or an IDX image file (pixels scaled to [0,1] like the training data). */
    static Dataset read(Path file, int inputs) throws IOException {
        byte[] head = new byte[4];
        try (var in = Files.newInputStream(file)) {
            int n = in.readNBytes(head, 0, 4);
            boolean gz = n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
            boolean idx = n == 4 && head[0] == 0 && head[1] == 0;
            if (idx || gz && !file.toString().contains(".csv")) {
                Idx.Tensor t = Idx.read(file);
                int rows = t.dims()[0];
                int width = rows == 0 ? 0 : t.values().length / rows;
                if (width != inputs) {
                    throw new IllegalArgumentException("--input: " + file + " has " + width + " values per item, the model expects " + inputs);
                }
                float[] x = t.values().clone();
                if (t.type() == 0x08) {
                    for (int i = 0; i < x.length; i++) {
                        x[i] /= 255f;
                    }
                }
                return new Dataset(file.getFileName().toString(), x, new int[rows], rows, width, 1);
            }
        }
        Dataset d = Csv.readFeatures(file, inputs);
        return d;
    }
}
