package dev.salvo.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.salvo.data.Csv;
import dev.salvo.data.Dataset;
import dev.salvo.data.Idx;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.AtomicFile;
import dev.salvo.io.ModelFile;
import dev.salvo.nn.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo predict}: one prediction (class and probability) per input row. */
@Command(name = "predict", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Predict the class of each input row with a saved model: one line per row (row, class, probability).",
                "Input: a CSV of feature columns only (header optional), or an IDX image file (MNIST format)."})
final class PredictCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model file written by salvo train (safetensors).")
    Path modelFile;

    @Option(names = "--input", required = true, description = "CSV of features (as many columns as the model's inputs) or an IDX images file.")
    Path input;

    @Option(names = "--format", defaultValue = "csv", description = "csv or json. Default: ${DEFAULT-VALUE}.")
    String format;

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
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (!Files.isRegularFile(input)) {
            throw new IllegalArgumentException("--input: no such file " + input);
        }
        ModelFile.Loaded m = EvalCommand.loadModel(modelFile);
        Dataset rows = m.transform().apply(read(input, m.spec().inputs()));
        int c = m.spec().outputs();
        int[] cls = new int[rows.rows()];
        float[] prob = new float[rows.rows()];
        try (Device dev = Devices.open(device).device(); Model model = new Model(dev, m.spec(), m.parameters(), batchSize)) {
            int f = rows.width();
            float[] logits = new float[batchSize * c];
            for (int from = 0; from < rows.rows(); from += batchSize) {
                int n = Math.min(batchSize, rows.rows() - from);
                float[] x = new float[n * f];
                System.arraycopy(rows.features(), from * f, x, 0, n * f);
                dev.upload(x, model.input().slice(0, (long) n * f));
                model.forward(n);
                dev.download(model.output().slice(0, (long) n * c), logits);
                for (int r = 0; r < n; r++) {
                    softmaxArgmax(logits, r * c, c, cls, prob, from + r, m.spec().layers().get(m.spec().layers().size() - 1)
                            instanceof dev.salvo.nn.LayerSpec.Softmax);
                }
            }
        }
        byte[] text = render(cls, prob);
        if (output == null) {
            PrintWriter out = spec.commandLine().getOut();
            out.print(new String(text, StandardCharsets.UTF_8));
            out.flush();
        } else {
            AtomicFile.write(output, text);
        }
        return 0;
    }

    /** Class with the largest output and its probability (softmax of the logits, or the output itself after a softmax layer). */
    static void softmaxArgmax(float[] z, int o, int c, int[] cls, float[] prob, int row, boolean alreadyProbabilities) {
        int best = 0; // NaN is the largest, as in the device's argmax (torch.argmax); its probability is NaN
        for (int k = 1; k < c && !Float.isNaN(z[o + best]); k++) {
            if (!(z[o + k] <= z[o + best])) {
                best = k;
            }
        }
        if (alreadyProbabilities) {
            cls[row] = best;
            prob[row] = z[o + best];
            return;
        }
        double s = 0;
        for (int k = 0; k < c; k++) {
            s += Math.exp(z[o + k] - z[o + best]);
        }
        cls[row] = best;
        prob[row] = (float) (1.0 / s);
    }

    private byte[] render(int[] cls, float[] prob) {
        if (format.equals("json")) {
            ObjectMapper json = new ObjectMapper();
            ArrayNode arr = json.createArrayNode();
            for (int i = 0; i < cls.length; i++) {
                arr.addObject().put("row", i).put("class", cls[i]).put("probability", prob[i]);
            }
            try {
                return json.writerWithDefaultPrettyPrinter().writeValueAsBytes(arr);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        StringBuilder sb = new StringBuilder("row,class,probability\n");
        for (int i = 0; i < cls.length; i++) {
            sb.append(i).append(',').append(cls[i]).append(',').append(String.format(Locale.ROOT, "%.6f", prob[i])).append('\n');
        }
        b.writeBytes(sb.toString().getBytes(StandardCharsets.UTF_8));
        return b.toByteArray();
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
