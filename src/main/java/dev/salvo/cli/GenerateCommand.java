package dev.salvo.cli;

import dev.salvo.data.Vocabulary;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.ModelFile;
import dev.salvo.nn.Model;
import dev.salvo.util.Rng;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code salvo generate}: samples text from a character language model trained by
 * {@code salvo train --data text:...}. Each new character: the running text's last T characters
 * (T the model's context; a shorter text is padded on the right, which a causal model never
 * looks at) go forward as one row, the logits at the last real position are divided by the
 * temperature, all but the top k are dropped, and a character is drawn from their softmax
 * (float64 on the host) with a generator seeded by {@code --seed}: the same model, seed and
 * device give the same text.
 */
@Command(name = "generate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sample text from a character language model (salvo train --data text:PATH --gpt L,H,C).",
                "Prints the prompt followed by the generated characters; the vocabulary comes from the model file."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class GenerateCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "Model file written by salvo train on text data (safetensors).")
    Path modelFile;

    @Option(names = "--prompt", defaultValue = "",
            description = "Text to continue; every character must be in the model's vocabulary (empty: start from a newline).")
    String prompt;

    @Option(names = "--tokens", defaultValue = "300", description = "Characters to generate (0 or more). Default: ${DEFAULT-VALUE}.")
    int tokens;

    @Option(names = "--temperature", defaultValue = "0.8", description = "Divides the logits (positive; lower is more conservative). Default: ${DEFAULT-VALUE}.")
    double temperature;

    @Option(names = "--top-k", defaultValue = "40", description = "Sample among the k most likely characters (at least 1). Default: ${DEFAULT-VALUE}.")
    int topK;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the sampling. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--device", description = "auto, cpu, opencl[:N], cuda[:N], reference.")
    String device;

    @Override
    public Integer call() {
        if (tokens < 0) {
            throw new IllegalArgumentException("--tokens must be 0 or more, got " + tokens);
        }
        if (!(temperature > 0) || !Double.isFinite(temperature)) {
            throw new IllegalArgumentException("--temperature must be a positive finite number, got " + temperature);
        }
        if (topK < 1) {
            throw new IllegalArgumentException("--top-k must be at least 1, got " + topK);
        }
        ModelFile.Loaded m = EvalCommand.loadModel(modelFile);
        Vocabulary vocab = TextTraining.vocabulary(modelFile, m.metadata());
        int t = m.spec().inputs();
        int v = m.spec().classes();
        if (m.spec().positions() != t || v != vocab.size()) {
            throw new IllegalArgumentException("--model " + modelFile + ": not a character language model over its vocabulary of "
                    + vocab.size() + " (input " + t + " values, " + m.spec().positions() + " positions of " + v + " classes)");
        }
        String start = prompt;
        if (start.isEmpty()) {
            if (vocab.id('\n') < 0) {
                throw new IllegalArgumentException("--prompt is empty and the model's vocabulary has no newline to start from;"
                        + " give a prompt");
            }
            start = "\n";
        }
        int[] cps = start.codePoints().toArray();
        int[] seq = new int[cps.length + tokens];
        for (int i = 0; i < cps.length; i++) {
            int id = vocab.id(cps[i]);
            if (id < 0) {
                throw new IllegalArgumentException("--prompt: the character " + Vocabulary.describe(cps[i]) + " (character " + (i + 1)
                        + " of the prompt) is not in the model's vocabulary of " + vocab.size() + " characters");
            }
            seq[i] = id;
        }
        PrintWriter out = spec.commandLine().getOut();
        Rng rng = new Rng(seed);
        int k = Math.min(topK, v);
        float[] x = new float[t];
        float[] logits = new float[v];
        double[] p = new double[v];
        Integer[] order = new Integer[v];
        Devices.Selection sel = Devices.open(device);
        try (Device dev = sel.device(); Model model = m.open(dev, 1)) {
            model.eval();
            int n = cps.length;
            for (int g = 0; g < tokens; g++, n++) {
                int from = Math.max(0, n - t);
                int len = n - from;
                Arrays.fill(x, 0f);
                for (int i = 0; i < len; i++) {
                    x[i] = seq[from + i];
                }
                dev.upload(x, model.input(1));
                model.forward(1);
                dev.download(model.output().slice((long) (len - 1) * v, v), logits);
                seq[n] = sample(logits, temperature, k, rng, p, order);
            }
            out.print(prompt);
            out.print(vocab.decode(seq, cps.length, cps.length + tokens));
            out.println();
            out.flush();
        }
        return 0;
    }

    /**
     * One draw: logits / temperature, the top {@code k} kept (ties by lower id), their softmax in
     * float64, then the first id whose cumulative probability exceeds a uniform draw.
     */
    static int sample(float[] logits, double temperature, int k, Rng rng, double[] p, Integer[] order) {
        int v = logits.length;
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> {
            int c = Float.compare(logits[b], logits[a]);
            return c != 0 ? c : Integer.compare(a, b);
        });
        double max = logits[order[0]] / temperature;
        double sum = 0;
        for (int j = 0; j < k; j++) {
            p[j] = Math.exp(logits[order[j]] / temperature - max);
            sum += p[j];
        }
        double u = rng.nextDouble() * sum;
        double acc = 0;
        for (int j = 0; j < k; j++) {
            acc += p[j];
            if (u < acc) {
                return order[j];
            }
        }
        return order[k - 1];
    }
}
