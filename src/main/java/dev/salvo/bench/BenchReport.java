package dev.salvo.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.salvo.io.AtomicFile;
import dev.salvo.train.RunFolder;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Everything one {@code salvo bench} run measured, and its three outputs: the tables on stdout,
 * {@code bench.json} and {@code bench.png}.
 */
public final class BenchReport {

    public static final String JSON = "bench.json";
    public static final String PNG = "bench.png";
    /** Version of the bench.json layout. */
    public static final int FORMAT = 1;

    /** A reference (PyTorch) and how it went: {@code ok}, {@code skipped} or {@code failed}, with why. */
    public record Reference(String name, String status, String message, Map<String, Object> info) {
    }

    private final Map<String, Object> header = new LinkedHashMap<>();
    private final List<Map<String, Object>> devices = new ArrayList<>();
    private final List<BenchResults.Training> training = new ArrayList<>();
    private final List<BenchResults.Matmul> matmul = new ArrayList<>();
    private final List<BenchResults.Conv> conv = new ArrayList<>();
    private final List<BenchResults.Gpt> gpt = new ArrayList<>();
    private final List<Reference> references = new ArrayList<>();
    private final Map<String, String> labels = new LinkedHashMap<>();
    private boolean complete;

    /** {@code header}: command, data, recipe and options, written first in bench.json. */
    public BenchReport(Map<String, Object> header) {
        this.header.put("format", FORMAT);
        this.header.put("date", Instant.now().toString());
        this.header.put("machine", machine());
        this.header.putAll(header);
    }

    /**
     * Prints a warning when the reference's {@code blas_kernel} (from pytorch_bench.py) says its
     * BLAS is not optimized (the netlib reference, which Debian's torch uses when no OpenBLAS is
     * installed): its figures are then no fair reference. Prints nothing otherwise.
     */
    public static void warnAboutBlas(Map<String, ?> info, PrintWriter out) {
        if (info.get("blas_kernel") instanceof Map<?, ?> k && Boolean.FALSE.equals(k.get("optimized"))) {
            out.println("reference: warning: PyTorch ran on " + k.get("library") + " (" + k.get("path") + "), not an"
                    + " optimized BLAS: its matmul is far below this machine's and every ratio against it flatters Salvo;"
                    + " install one (Debian: apt-get install libopenblas0-pthread) and run again");
            out.flush();
        }
    }

    /** {@link #warnAboutBlas} for every reference that ran. */
    public void warnAboutReferences(PrintWriter out) {
        for (Reference r : references) {
            warnAboutBlas(r.info(), out);
        }
    }

    /** Marks the run finished: bench.json says {@code "complete": true} from now on. */
    public void complete() {
        complete = true;
    }

    public void device(String id, String name, String details) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("id", id);
        d.put("name", name);
        d.put("details", details);
        devices.add(d);
        labels.put(id, id + " (" + name + ")");
    }

    public void add(BenchResults.Training t) {
        training.add(t);
    }

    public void add(BenchResults.Matmul m) {
        matmul.add(m);
    }

    public void add(BenchResults.Conv c) {
        conv.add(c);
    }

    public void add(BenchResults.Gpt g) {
        gpt.add(g);
    }

    public List<BenchResults.Gpt> gpt() {
        return List.copyOf(gpt);
    }

    /** The GPT reference and how it went; {@code result} null unless it ran. */
    public void gptReference(Reference r, PyTorchReference.GptResult result) {
        references.add(r);
        if (result != null) {
            gpt.add(result.gpt());
            labels.put(PyTorchReference.SOURCE, result.description());
        }
    }

    /** The reference's GPT row (null when it did not run). */
    public BenchResults.Gpt pytorchGpt() {
        for (BenchResults.Gpt g : gpt) {
            if (g.source().equals(PyTorchReference.SOURCE)) {
                return g;
            }
        }
        return null;
    }

    /** Median tokens/s of {@code g} over the reference's (NaN when there is none). */
    public double gptSpeedVsPyTorch(BenchResults.Gpt g) {
        BenchResults.Gpt r = pytorchGpt();
        return r == null || g == r ? Double.NaN : g.tokensPerSecond().median() / r.tokensPerSecond().median();
    }

    /** Validation loss of {@code g} minus the reference's (NaN when there is none). */
    public double gptLossVsPyTorch(BenchResults.Gpt g) {
        BenchResults.Gpt r = pytorchGpt();
        return r == null || g == r ? Double.NaN : g.valLoss() - r.valLoss();
    }

    public void reference(Reference r, PyTorchReference.Result result) {
        references.add(r);
        if (result != null) {
            training.addAll(result.training());
            matmul.addAll(result.matmul());
            conv.addAll(result.conv());
            labels.put(PyTorchReference.SOURCE, result.description());
        }
    }

    public List<BenchResults.Training> training() {
        return List.copyOf(training);
    }

    public List<BenchResults.Matmul> matmul() {
        return List.copyOf(matmul);
    }

    public List<BenchResults.Conv> conv() {
        return List.copyOf(conv);
    }

    /** Samples/s of {@code t} over the PyTorch reference's on the same model (NaN when there is none). */
    public double speedVsPyTorch(BenchResults.Training t) {
        for (BenchResults.Training r : training) {
            if (r.source().equals(PyTorchReference.SOURCE) && r.model().equals(t.model())) {
                return t.samplesPerSecond().median() / r.samplesPerSecond().median();
            }
        }
        return Double.NaN;
    }

    /** SIMD and matrix flags of /proc/cpuinfo worth quoting beside a figure (those the CPU has). */
    private static final List<String> SIMD_FLAGS = List.of("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_vnni",
            "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve");

    /**
     * The facts about this machine that bench.json records: cores, the CPU's model name and, from
     * /proc/cpuinfo, its vendor, family, model and stepping numbers and SIMD flags; the Java runtime
     * (vendor, version, VM), the OS and the git commit of the working directory.
     */
    public static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, String> cpu = cpuInfo();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpu.getOrDefault("model name", System.getProperty("os.arch")));
        m.put("cpu_vendor", cpu.get("vendor_id"));
        m.put("cpu_family", integer(cpu.get("cpu family")));
        m.put("cpu_model", integer(cpu.get("model")));
        m.put("cpu_stepping", integer(cpu.get("stepping")));
        List<String> flags = new ArrayList<>();
        List<String> have = List.of(cpu.getOrDefault("flags", cpu.getOrDefault("Features", "")).split("\\s+"));
        for (String f : SIMD_FLAGS) {
            if (have.contains(f)) {
                flags.add(f);
            }
        }
        m.put("cpu_simd_flags", flags);
        m.put("jdk", System.getProperty("java.vendor") + " " + Runtime.version() + " (" + System.getProperty("java.vm.name") + ")");
        m.put("java_version", Runtime.version().toString());
        m.put("os", osName());
        m.put("git_commit", gitCommit());
        return m;
    }

    /**
     * One line naming the CPU as the README quotes it, e.g. {@code AMD EPYC (AuthenticAMD family 25
     * model 17 stepping 1; avx2 fma avx512f), 2 cores}.
     */
    public static String describeCpu(Map<String, Object> machine) {
        StringBuilder b = new StringBuilder(String.valueOf(machine.get("cpu")));
        if (machine.get("cpu_family") != null) {
            b.append(" (").append(machine.get("cpu_vendor")).append(" family ").append(machine.get("cpu_family"))
                    .append(" model ").append(machine.get("cpu_model"));
            if (machine.get("cpu_stepping") != null) {
                b.append(" stepping ").append(machine.get("cpu_stepping"));
            }
            if (machine.get("cpu_simd_flags") instanceof List<?> f && !f.isEmpty()) {
                b.append("; ").append(String.join(" ", f.stream().map(String::valueOf).toList()));
            }
            b.append(')');
        }
        return b.append(", ").append(machine.get("cores")).append(" cores").toString();
    }

    /** The first processor's fields of /proc/cpuinfo (empty where there is none). */
    private static Map<String, String> cpuInfo() {
        Map<String, String> info = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.isBlank() && !info.isEmpty()) {
                    break; // the end of the first processor
                }
                int colon = line.indexOf(':');
                if (colon > 0) {
                    info.putIfAbsent(line.substring(0, colon).strip(), line.substring(colon + 1).strip());
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return info;
    }

    private static Integer integer(String s) {
        try {
            return s == null ? null : Integer.valueOf(s.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String osName() {
        String base = System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/etc/os-release"), StandardCharsets.UTF_8)) {
                if (line.startsWith("PRETTY_NAME=")) {
                    return line.substring(12).replace("\"", "") + ", " + base;
                }
            }
        } catch (IOException | RuntimeException e) {
            // no os-release
        }
        return base;
    }

    /** {@code git rev-parse HEAD} of the working directory (+ "-dirty" with local changes), or null. */
    static String gitCommit() {
        try {
            String head = git("rev-parse", "HEAD");
            if (head == null || head.isBlank()) {
                return null;
            }
            String status = git("status", "--porcelain", "--untracked-files=no");
            return head.strip() + (status != null && !status.isBlank() ? "-dirty" : "");
        } catch (IOException e) {
            return null;
        }
    }

    private static String git(String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add("git");
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                return null;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
        return out;
    }

    // ---- outputs ------------------------------------------------------------------------------

    /** The training and matmul tables. */
    public void printTables(PrintWriter out) {
        if (!gpt.isEmpty()) {
            printGpt(out);
        }
        if (!training.isEmpty() || gpt.isEmpty()) {
            printTraining(out);
        }
        for (Reference r : references) {
            if (!r.status().equals("ok")) {
                out.println("reference " + r.name() + ": " + r.status() + ": " + r.message());
            }
        }
        out.flush();
    }

    /** The GPT table: tokens/s, validation loss, against the reference, and the profile's shares. */
    private void printGpt(PrintWriter out) {
        out.println();
        out.printf(Locale.ROOT, "%-10s %-26s %-15s %-9s %-8s %-13s %7s %7s %7s %7s %7s %6s%n", "source", "tokens/s",
                "[p10-p90]", "ms/step", "val", "vs pytorch", "matmul", "attn", "lnorm", "optim", "other", "host");
        for (BenchResults.Gpt g : gpt) {
            double ratio = gptSpeedVsPyTorch(g);
            double dl = gptLossVsPyTorch(g);
            BenchResults.Spread r = g.tokensPerSecond();
            Map<String, Double> sh = g.profile() == null ? Map.of() : g.profile().shares();
            out.printf(Locale.ROOT, "%-10s %-26s %-15s %-9s %-8s %-13s %7s %7s %7s %7s %7s %6s%n", g.source(),
                    String.format(Locale.ROOT, "%,.0f [%,.0f-%,.0f]", r.median(), r.min(), r.max()),
                    String.format(Locale.ROOT, "%,.0f-%,.0f", r.p10(), r.p90()),
                    String.format(Locale.ROOT, "%.1f", 1e3 * g.stepSeconds().median()),
                    String.format(Locale.ROOT, "%.4f", g.valLoss()),
                    Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2fx %+.3f", ratio, dl),
                    share(sh, "matmul"), share(sh, "attention"), share(sh, "layernorm"), share(sh, "optimizer"),
                    share(sh, "other"), share(sh, "host"));
        }
        BenchResults.Gpt first = gpt.get(0);
        out.println(first.model() + ", batch " + first.batchSize() + ", " + first.steps() + " steps; tokens/s: batch x context"
                + " over each timed step's seconds, median [min-max] and p10-p90, the first " + first.skippedSteps()
                + " steps not timed; val: validation loss at the end; vs pytorch: tokens/s over PyTorch's (>1: faster) and"
                + " the validation loss minus PyTorch's");
        out.println("matmul/attn/lnorm/optim/other/host: shares of a separate synchronized profile pass by op family"
                + " (attn: the attention family's ops; its q k^T and att v products are under matmul)");
    }

    private static String share(Map<String, Double> shares, String key) {
        Double v = shares.get(key);
        return v == null ? "-" : pct(v);
    }

    private void printTraining(PrintWriter out) {
        out.println();
        out.printf(Locale.ROOT, "%-10s %-12s %-26s %-24s %-11s %7s %7s %7s%n", "source", "model", "samples/s",
                "s/epoch", "vs pytorch", "matmul", "elemw", "host");
        boolean extrapolated = false;
        for (BenchResults.Training t : training) {
            double ratio = t.source().equals(PyTorchReference.SOURCE) ? Double.NaN : speedVsPyTorch(t);
            extrapolated |= t.extrapolated();
            BenchResults.Profile p = t.profile();
            out.printf(Locale.ROOT, "%-10s %-12s %-26s %-24s %-11s %7s %7s %7s%n", t.source(), t.model(),
                    range(t.samplesPerSecond(), "%,.0f"), (t.extrapolated() ? "~" : "") + range(t.secondsPerEpoch(), "%.2f"),
                    Double.isNaN(ratio) ? "-" : String.format(Locale.ROOT, "%.2fx", ratio),
                    p == null ? "-" : pct(p.matmul()), p == null ? "-" : pct(p.elementwise()), p == null ? "-" : pct(p.host()));
        }
        out.println("samples/s and s/epoch: median [min-max] over the timed passes; vs pytorch: samples/s over PyTorch's"
                + " (>1: faster)");
        if (extrapolated) {
            out.println("~: fewer steps than an epoch were timed; the epoch time is rows / samples per second");
        }
        out.println("matmul/elemw/host: shares of a separate synchronized profile pass (every op waited for), not of the"
                + " timed passes");
        if (!matmul.isEmpty()) {
            TreeSet<Integer> sizes = new TreeSet<>();
            List<String> sources = new ArrayList<>();
            for (BenchResults.Matmul m : matmul) {
                sizes.add(m.n());
                if (!sources.contains(m.source())) {
                    sources.add(m.source());
                }
            }
            out.println();
            out.printf(Locale.ROOT, "%-6s", "n");
            for (String s : sources) {
                out.printf(Locale.ROOT, " %-24s", s);
            }
            out.println();
            for (int n : sizes) {
                out.printf(Locale.ROOT, "%-6d", n);
                for (String s : sources) {
                    String cell = "-";
                    for (BenchResults.Matmul m : matmul) {
                        if (m.n() == n && m.source().equals(s)) {
                            cell = range(m.gflops(), "%.1f");
                        }
                    }
                    out.printf(Locale.ROOT, " %-24s", cell);
                }
                out.println();
            }
            out.println("matmul GFLOP/s, C = A B (n x n, float32, operands resident), median [min-max]");
        }
        if (!conv.isEmpty()) {
            out.println();
            out.printf(Locale.ROOT, "%-10s %-12s %-9s %-34s %-22s %-26s %s%n", "source", "model", "layer",
                    "conv2d (batch N)", "forward GFLOP/s", "backward GFLOP/s", "gemm share f/b");
            boolean weightsOnly = false;
            for (BenchResults.Conv c : conv) {
                weightsOnly |= !c.inputGradient();
                out.printf(Locale.ROOT, "%-10s %-12s %-9s %-34s %-22s %-26s %s%n", c.source(), c.model(), c.layer(),
                        "N=" + c.batch() + " " + c.shape(), range(c.forwardGflops(), "%.1f"),
                        range(c.backwardGflops(), "%.1f") + (c.inputGradient() ? "" : " (dW)"),
                        c.forwardGemmShare() == null ? "-" : pct(c.forwardGemmShare()) + " / " + pct(c.backwardGemmShare()));
            }
            out.println("conv2d GFLOP/s, median [min-max]: forward 2 N OC OH OW C k^2 FLOPs, backward the same per gradient;"
                    + " Salvo's devices: each call in the synchronized profile pass (im2col, col2im, layout swaps"
                    + " included); pytorch: the layer alone at the same shape");
            if (weightsOnly) {
                out.println("(dW): the layer's input is the data, so backward computes the weight gradient only");
            }
        }
    }

    private static String range(Stats s, String fmt) {
        String m = String.format(Locale.ROOT, fmt, s.median());
        if (s.values().size() < 2) {
            return m;
        }
        return m + " [" + String.format(Locale.ROOT, fmt, s.min()) + "-" + String.format(Locale.ROOT, fmt, s.max()) + "]";
    }

    private static String pct(double share) {
        return String.format(Locale.ROOT, "%.0f%%", 100 * share);
    }

    /** The whole report as the bench.json tree. */
    public Map<String, Object> json() {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", header.get("format"));
        root.put("complete", complete);
        root.putAll(header);
        root.put("devices", devices);
        root.put("references", references);
        root.put("training", training);
        List<Map<String, Object>> cmp = new ArrayList<>();
        for (BenchResults.Training t : training) {
            double ratio = t.source().equals(PyTorchReference.SOURCE) ? Double.NaN : speedVsPyTorch(t);
            if (!Double.isNaN(ratio)) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("source", t.source());
                c.put("model", t.model());
                c.put("reference", PyTorchReference.SOURCE);
                c.put("reference_description", labels.get(PyTorchReference.SOURCE));
                c.put("samples_per_second_ratio", ratio);
                c.put("meaning", "median samples/s of the source over the reference's; above 1 the source is faster");
                cmp.add(c);
            }
        }
        root.put("comparisons", cmp);
        root.put("matmul", matmul);
        root.put("conv2d", conv);
        if (!gpt.isEmpty()) {
            root.put("gpt", gpt);
            List<Map<String, Object>> gcmp = new ArrayList<>();
            for (BenchResults.Gpt g : gpt) {
                double ratio = gptSpeedVsPyTorch(g);
                if (!Double.isNaN(ratio)) {
                    Map<String, Object> c = new LinkedHashMap<>();
                    c.put("source", g.source());
                    c.put("model", g.model());
                    c.put("reference", PyTorchReference.SOURCE);
                    c.put("reference_description", labels.get(PyTorchReference.SOURCE));
                    c.put("tokens_per_second_ratio", ratio);
                    c.put("val_loss_difference", gptLossVsPyTorch(g));
                    c.put("meaning", "median tokens/s of the source over the reference's (above 1 the source is faster);"
                            + " the source's validation loss minus the reference's");
                    gcmp.add(c);
                }
            }
            root.put("gpt_comparisons", gcmp);
        }
        root.put("notes", List.of(
                "seconds_per_epoch and samples_per_second: over the timed passes (repeat), each after an untimed warm-up",
                "extrapolated: fewer steps than an epoch were timed; seconds_per_epoch = rows_per_epoch / samples_per_second",
                "profile: a separate pass through a device decorator that synchronizes after every op; its shares say where"
                        + " the time goes, its speed is lower than the timed passes'",
                "matmul: C (n,n) = A (n,n) B (n,n) through the matmul op with operands resident, gflops = 2 n^3 / s",
                "conv2d: each conv layer of a benchmarked network (see method); forward_flops = 2 N OC OH OW C k^2 at a full"
                        + " batch, backward_flops = forward_flops per gradient computed (weights; and the input where"
                        + " input_gradient); gflops per sample; gemm shares: the matrix products' part of the layer's time",
                "gpt: the GPT recipe (salvo bench --gpt); tokens_per_second = batch x context / seconds of each timed step"
                        + " (median, min, max, p10, p90; mean = timed tokens / timed seconds); profile shares by op family from"
                        + " a separate synchronized pass: matmul (every product, attention's included), attention (the"
                        + " attention family: embeddings, head split/merge, causal softmax), layernorm, optimizer (AdamW"
                        + " updates), other (every other family), host (the rest of the wall time)"));
        return root;
    }

    /** Writes bench.json into {@code dir} (atomically). */
    public Path writeJson(Path dir) throws IOException {
        ObjectMapper mapper = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(SerializationFeature.INDENT_OUTPUT);
        byte[] bytes = mapper.writeValueAsBytes(json());
        Path file = dir.resolve(JSON);
        AtomicFile.write(file, bytes);
        return file;
    }

    /** Writes bench.png into {@code dir}; false (nothing drawn) on a runtime without java.desktop. */
    public boolean writeChart(Path dir, String title) throws IOException {
        if (!RunFolder.plottingAvailable()) {
            return false;
        }
        BenchChart.write(matmul, labels, dir.resolve(PNG), title);
        return true;
    }
}
