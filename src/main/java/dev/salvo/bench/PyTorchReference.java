package dev.salvo.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.io.AtomicFile;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The PyTorch CPU reference of {@code salvo bench}: the script {@code salvo/bench/pytorch_bench.py}
 * (shipped in the jar) run by a Python that can import {@code torch} and {@code numpy}, in an
 * environment without the variables that override OpenBLAS's choice of kernel
 * ({@link #referenceEnvironment}), so the reference runs on its library's best kernel. The script
 * prints one JSON object on stdout, which also says which BLAS and which kernel it ran;
 * {@link #parse} reads it.
 */
public final class PyTorchReference {

    /** Where the script lives on the class path. */
    public static final String RESOURCE = "salvo/bench/pytorch_bench.py";
    public static final String SCRIPT_NAME = "pytorch_bench.py";
    public static final String SOURCE = "pytorch";
    /** The GPT recipe's script ({@code salvo bench --gpt}); it uses pytorch_bench.py's BLAS detection when beside it. */
    public static final String GPT_RESOURCE = "salvo/bench/pytorch_gpt_bench.py";
    public static final String GPT_SCRIPT_NAME = "pytorch_gpt_bench.py";

    /** What the reference measured, and how it ran. */
    public record Result(String description, Map<String, Object> info, List<BenchResults.Training> training,
                         List<BenchResults.Matmul> matmul, List<BenchResults.Conv> conv) {
    }

    /** How the script times a conv2d layer (bench.json's {@code method} of its conv2d rows). */
    public static final String CONV_METHOD = "the layer alone (torch.nn.Conv2d of the trained network, same shape and"
            + " batch, training mode): forward with autograd recording, backward = y.backward(dy) on a retained graph;"
            + " samples of repeated calls";

    private PyTorchReference() {
    }

    /**
     * Environment variables that override OpenBLAS's own choice of kernel ({@code OPENBLAS_CORETYPE})
     * and cache blocking ({@code OPENBLAS_L2_SIZE}). A reference must run its library's best
     * kernel, so the reference process never inherits them: on a machine whose environment sets
     * {@code OPENBLAS_CORETYPE=Haswell} on an AVX-512 CPU, PyTorch's matmul ran at half the speed
     * OpenBLAS reaches with its own detection.
     */
    public static final List<String> BLAS_OVERRIDES = List.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE");

    /**
     * The reference process's environment: {@code parent} without {@link #BLAS_OVERRIDES}, and
     * {@code OMP_WAIT_POLICY=PASSIVE} unless the parent sets a policy (spinning OpenMP threads
     * starve OpenBLAS's own threads on a small machine). {@code parent} is not changed.
     */
    public static Map<String, String> referenceEnvironment(Map<String, String> parent) {
        Map<String, String> env = new java.util.HashMap<>(parent);
        BLAS_OVERRIDES.forEach(env::remove);
        env.putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        return env;
    }

    /** The {@link #BLAS_OVERRIDES} that {@code parent} sets, with their values (what the reference does not get). */
    public static Map<String, String> removedFrom(Map<String, String> parent) {
        Map<String, String> removed = new LinkedHashMap<>();
        for (String k : BLAS_OVERRIDES) {
            if (parent.containsKey(k)) {
                removed.put(k, parent.get(k));
            }
        }
        return removed;
    }

    /**
     * The first interpreter that imports torch and numpy: {@code python} when given (only it), else
     * {@code python3} on the PATH, then {@code /usr/bin/python3} (Debian's, where
     * {@code python3-torch} installs). Returns null and explains in {@code why} when there is none.
     */
    public static String findPython(String python, StringBuilder why) {
        List<String> candidates = python != null ? List.of(python) : List.of("python3", "/usr/bin/python3");
        List<String> reasons = new ArrayList<>();
        for (String p : candidates) {
            try {
                Process proc = new ProcessBuilder(p, "-c", "import torch, numpy").redirectErrorStream(true).start();
                String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
                if (!proc.waitFor(120, TimeUnit.SECONDS)) {
                    proc.destroyForcibly();
                    reasons.add(p + ": timed out importing torch");
                    continue;
                }
                if (proc.exitValue() == 0) {
                    return p;
                }
                String last = out.isEmpty() ? "exit " + proc.exitValue() : out.lines().reduce((a, b) -> b).orElse("");
                reasons.add(p + ": " + last);
            } catch (IOException e) {
                reasons.add(p + ": not found");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                reasons.add(p + ": interrupted");
                break;
            }
        }
        why.append(String.join("; ", reasons));
        return null;
    }

    /** Writes the shipped script to {@code dir/pytorch_bench.py} (atomically) and returns its path. */
    public static Path extract(Path dir) throws IOException {
        return extract(dir, RESOURCE, SCRIPT_NAME);
    }

    /**
     * Writes the GPT script to {@code dir/pytorch_gpt_bench.py}, and pytorch_bench.py beside it (its
     * BLAS detection), atomically; returns the GPT script's path.
     */
    public static Path extractGpt(Path dir) throws IOException {
        extract(dir, RESOURCE, SCRIPT_NAME);
        return extract(dir, GPT_RESOURCE, GPT_SCRIPT_NAME);
    }

    private static Path extract(Path dir, String resource, String name) throws IOException {
        byte[] script;
        try (InputStream in = PyTorchReference.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException(resource + " is missing from the class path");
            }
            script = in.readAllBytes();
        }
        Path target = dir.resolve(name);
        AtomicFile.write(target, script);
        return target;
    }

    /**
     * Runs {@code python script args}; the script's stderr lines go to {@code log} as they come.
     *
     * @throws IOException when it cannot start, fails, or prints no JSON
     */
    public static Result run(String python, Path script, List<String> args, Consumer<String> log) throws IOException {
        return parse(execute(python, script, args, log));
    }

    /** {@link #run} for the GPT script: its output read by {@link #parseGpt}. */
    public static GptResult runGpt(String python, Path script, List<String> args, Consumer<String> log) throws IOException {
        return parseGpt(execute(python, script, args, log));
    }

    /** Runs {@code python script args} in the {@link #referenceEnvironment}; returns its stdout. */
    private static String execute(String python, Path script, List<String> args, Consumer<String> log) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(python);
        cmd.add(script.toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        Map<String, String> clean = referenceEnvironment(env);
        env.clear();
        env.putAll(clean);
        Process proc = pb.start();
        List<String> errLines = new ArrayList<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(proc.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (errLines) {
                        errLines.add(line);
                    }
                    log.accept(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "pytorch-stderr");
        pump.setDaemon(true);
        pump.start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int code;
        try {
            code = proc.waitFor();
            pump.join(5000);
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while the PyTorch reference ran");
        }
        if (code != 0) {
            String last;
            synchronized (errLines) {
                last = errLines.isEmpty() ? "(no output)" : errLines.get(errLines.size() - 1);
            }
            throw new IOException(script.getFileName() + " exited with " + code + ": " + last);
        }
        return out;
    }

    /**
     * Parses the script's stdout: its last line that starts with '{' is the JSON object.
     *
     * @throws IOException naming the field when the output is not what the script writes
     */
    public static Result parse(String stdout) throws IOException {
        String json = null;
        for (String line : stdout.split("\n")) {
            if (line.strip().startsWith("{")) {
                json = line.strip();
            }
        }
        if (json == null) {
            throw new IOException(SCRIPT_NAME + " printed no JSON object");
        }
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(SCRIPT_NAME + " printed malformed JSON: " + e.getOriginalMessage());
        }
        String version = text(root, "torch_version");
        int threads = integer(root, "threads");
        String blas = root.path("blas").asText("");
        String description = "PyTorch " + version + " CPU, " + threads + " threads"
                + (blas.isEmpty() ? "" : ", BLAS " + blas);
        Map<String, Object> info = new LinkedHashMap<>();
        for (var it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("training") && !e.getKey().equals("matmul") && !e.getKey().equals("conv2d")) {
                info.put(e.getKey(), new ObjectMapper().convertValue(e.getValue(), Object.class));
            }
        }
        List<BenchResults.Training> training = new ArrayList<>();
        for (JsonNode t : array(root, "training")) {
            List<Integer> layers = new ArrayList<>();
            for (JsonNode l : array(t, "layers")) {
                layers.add(l.asInt());
            }
            String network = t.hasNonNull("network") ? t.get("network").asText()
                    : String.join("-", layers.stream().map(String::valueOf).toList());
            training.add(new BenchResults.Training(SOURCE, description, text(t, "model"), layers, network,
                    integer(t, "batch_size"),
                    integer(t, "rows_per_epoch"), integer(t, "steps_per_epoch"), integer(t, "steps_timed"),
                    integer(t, "warmup_steps"), t.path("extrapolated").asBoolean(false), stats(t, "seconds_per_epoch"),
                    stats(t, "samples_per_second"), number(t, "mean_loss"), null));
        }
        List<BenchResults.Matmul> matmul = new ArrayList<>();
        for (JsonNode m : array(root, "matmul")) {
            matmul.add(new BenchResults.Matmul(SOURCE, integer(m, "n"), integer(m, "calls_per_sample"), stats(m, "gflops")));
        }
        List<BenchResults.Conv> conv = new ArrayList<>();
        if (root.has("conv2d")) { // older scripts and MLP-only runs have none
            for (JsonNode c : array(root, "conv2d")) {
                conv.add(new BenchResults.Conv(SOURCE, text(c, "model"), text(c, "layer"), integer(c, "batch"),
                        integer(c, "channels"), integer(c, "height"), integer(c, "width"), integer(c, "out_channels"),
                        integer(c, "kernel"), integer(c, "stride"), integer(c, "pad"), integer(c, "out_height"),
                        integer(c, "out_width"), field(c, "input_gradient").asBoolean(), number(c, "forward_flops"),
                        number(c, "backward_flops"), stats(c, "forward_gflops"), stats(c, "backward_gflops"), null, null,
                        CONV_METHOD));
            }
        }
        return new Result(description, info, training, matmul, conv);
    }

    /** What the GPT script measured, and how it ran. */
    public record GptResult(String description, Map<String, Object> info, BenchResults.Gpt gpt) {
    }

    /** How pytorch_gpt_bench.py times a step (bench.json's {@code timing} of its row). */
    public static final String GPT_TIMING = "each training step alone (batch gather, forward, backward, clipping, AdamW,"
            + " loss read back), eager float32; the first skipped steps and the evaluation not timed";

    /**
     * Parses the GPT script's stdout: its last line that starts with '{' is the JSON object, whose
     * {@code gpt} object holds the measurements (the rest is reported as the reference's info).
     *
     * @throws IOException naming the field when the output is not what the script writes
     */
    public static GptResult parseGpt(String stdout) throws IOException {
        JsonNode root = lastJson(stdout, GPT_SCRIPT_NAME);
        String version = text(root, "torch_version", GPT_SCRIPT_NAME);
        int threads = integer(root, "threads", GPT_SCRIPT_NAME);
        String blas = root.path("blas").asText("");
        String description = "PyTorch " + version + " CPU, " + threads + " threads"
                + (blas.isEmpty() || blas.equals("unknown") ? "" : ", BLAS " + blas);
        Map<String, Object> info = new LinkedHashMap<>();
        for (var it = root.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!e.getKey().equals("gpt")) {
                info.put(e.getKey(), new ObjectMapper().convertValue(e.getValue(), Object.class));
            }
        }
        JsonNode g = field(root, "gpt", GPT_SCRIPT_NAME);
        JsonNode m = field(root, "model", GPT_SCRIPT_NAME);
        String model = describeGpt(integer(m, "layers", GPT_SCRIPT_NAME), integer(m, "heads", GPT_SCRIPT_NAME),
                integer(m, "embd", GPT_SCRIPT_NAME), integer(m, "context", GPT_SCRIPT_NAME));
        int tokens = integer(g, "tokens_per_step", GPT_SCRIPT_NAME);
        int context = integer(m, "context", GPT_SCRIPT_NAME);
        int batch = integer(root, "batch_size", GPT_SCRIPT_NAME);
        if (tokens != batch * context) {
            throw new IOException(GPT_SCRIPT_NAME + " output: tokens_per_step " + tokens + " is not batch_size " + batch
                    + " x context " + context);
        }
        BenchResults.Spread step = spread(field(g, "step_seconds", GPT_SCRIPT_NAME), "step_seconds");
        List<Double> blocks = new ArrayList<>();
        if (g.has("block_median_seconds")) { // optional
            for (JsonNode v : array(g, "block_median_seconds")) {
                blocks.add(v.asDouble());
            }
        }
        double valLoss = number(g, "val_loss", GPT_SCRIPT_NAME);
        if (!(valLoss > 0) || !Double.isFinite(valLoss)) {
            throw new IOException(GPT_SCRIPT_NAME + " output: val_loss is " + valLoss + ", not a positive number");
        }
        BenchResults.Gpt gpt = new BenchResults.Gpt(SOURCE, description, model,
                field(m, "parameters", GPT_SCRIPT_NAME).asLong(), batch, context, integer(g, "steps", GPT_SCRIPT_NAME),
                integer(g, "skipped_steps", GPT_SCRIPT_NAME), step, step.rate(tokens),
                number(g, "train_seconds", GPT_SCRIPT_NAME), number(g, "wall_seconds", GPT_SCRIPT_NAME), valLoss,
                integer(g, "val_windows", GPT_SCRIPT_NAME), number(g, "final_train_loss", GPT_SCRIPT_NAME), null,
                GPT_TIMING, blocks);
        return new GptResult(description, info, gpt);
    }

    /** The GPT's one-line name in bench reports, Salvo's and the reference's alike. */
    public static String describeGpt(int layers, int heads, int embd, int context) {
        return "gpt " + layers + "x" + heads + "x" + embd + " T" + context;
    }

    /** A spread of positive step times as the script writes it (median, min, max, p10, p90, mean, count). */
    private static BenchResults.Spread spread(JsonNode s, String name) throws IOException {
        double[] v = new double[6];
        String[] keys = {"median", "min", "max", "p10", "p90", "mean"};
        for (int i = 0; i < keys.length; i++) {
            v[i] = number(s, keys[i], GPT_SCRIPT_NAME);
            if (!(v[i] > 0) || !Double.isFinite(v[i])) {
                throw new IOException(GPT_SCRIPT_NAME + " output: '" + name + "." + keys[i] + "' is " + v[i]
                        + ", not a positive number");
            }
        }
        if (!(v[1] <= v[3] && v[3] <= v[0] && v[0] <= v[4] && v[4] <= v[2])) {
            throw new IOException(GPT_SCRIPT_NAME + " output: '" + name + "' is not ordered min <= p10 <= median <= p90"
                    + " <= max: " + s);
        }
        int count = integer(s, "count", GPT_SCRIPT_NAME);
        if (count < 1) {
            throw new IOException(GPT_SCRIPT_NAME + " output: '" + name + ".count' is " + count);
        }
        return new BenchResults.Spread(v[0], v[1], v[2], v[3], v[4], v[5], count);
    }

    private static JsonNode lastJson(String stdout, String script) throws IOException {
        String json = null;
        for (String line : stdout.split("\n")) {
            if (line.strip().startsWith("{")) {
                json = line.strip();
            }
        }
        if (json == null) {
            throw new IOException(script + " printed no JSON object");
        }
        try {
            return new ObjectMapper().readTree(json);
        } catch (JsonProcessingException e) {
            throw new IOException(script + " printed malformed JSON: " + e.getOriginalMessage());
        }
    }

    private static JsonNode field(JsonNode n, String name, String script) throws IOException {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            throw new IOException(script + " output: field '" + name + "' is missing");
        }
        return v;
    }

    private static String text(JsonNode n, String name, String script) throws IOException {
        return field(n, name, script).asText();
    }

    private static int integer(JsonNode n, String name, String script) throws IOException {
        JsonNode v = field(n, name, script);
        if (!v.isIntegralNumber()) {
            throw new IOException(script + " output: field '" + name + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String name, String script) throws IOException {
        JsonNode v = field(n, name, script);
        if (!v.isNumber()) {
            throw new IOException(script + " output: field '" + name + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static JsonNode field(JsonNode n, String name) throws IOException {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            throw new IOException(SCRIPT_NAME + " output: field '" + name + "' is missing");
        }
        return v;
    }

    private static String text(JsonNode n, String name) throws IOException {
        return field(n, name).asText();
    }

    private static int integer(JsonNode n, String name) throws IOException {
        JsonNode v = field(n, name);
        if (!v.isIntegralNumber()) {
            throw new IOException(SCRIPT_NAME + " output: field '" + name + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    private static double number(JsonNode n, String name) throws IOException {
        JsonNode v = field(n, name);
        if (!v.isNumber()) {
            throw new IOException(SCRIPT_NAME + " output: field '" + name + "' must be a number, got " + v);
        }
        return v.asDouble();
    }

    private static JsonNode array(JsonNode n, String name) throws IOException {
        JsonNode v = field(n, name);
        if (!v.isArray()) {
            throw new IOException(SCRIPT_NAME + " output: field '" + name + "' must be an array");
        }
        return v;
    }

    private static Stats stats(JsonNode n, String name) throws IOException {
        JsonNode s = field(n, name);
        List<Double> values = new ArrayList<>();
        for (JsonNode v : array(s, "values")) {
            if (!v.isNumber() || !(v.asDouble() > 0) || !Double.isFinite(v.asDouble())) {
                throw new IOException(SCRIPT_NAME + " output: '" + name + "' holds " + v + ", not a positive number");
            }
            values.add(v.asDouble());
        }
        if (values.isEmpty()) {
            throw new IOException(SCRIPT_NAME + " output: '" + name + "' has no values");
        }
        return Stats.of(values);
    }
}
