package dev.salvo.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns the JMH JSON result of {@link AttentionBenchmark} ({@code -rf json}) into a Markdown
 * table: per device and shape, forward and backward GFLOP/s (median over every measurement
 * iteration [min-max]; forward {@code 2 x 2 B H T T D} FLOPs, backward {@code 4 x 2 B H T T D}:
 * the full {@code T x T} products, the masked half included) and the median as a fraction of this
 * machine's FMA peak, measured here by {@link FmaPeak} on as many threads as the CPU device runs
 * (the peak is the CPU's: for an OpenCL device on the CPU, PoCL, the same ceiling). Other
 * benchmarks in the file are ignored.
 *
 * <p>Usage: {@code AttentionReport target/jmh.json [--no-peak]}; run it on the machine that ran
 * the benchmark, with nothing else running, with {@code --add-modules jdk.incubator.vector}.
 */
public final class AttentionReport {

    static final List<String> ORDER = List.of("forward", "backward");

    private AttentionReport() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "target/jmh.json");
        boolean peak = !List.of(args).contains("--no-peak");
        List<?> root = new ObjectMapper().readValue(file.toFile(), List.class);
        Double peakGflops = null;
        String peakText = "FMA peak: not measured (--no-peak)";
        if (peak) {
            int threads;
            try (Device cpu = Devices.open("cpu").device()) {
                threads = cpu.info().computeUnits();
            }
            Map<String, Object> m = FmaPeak.measure(threads, 0.2, 5);
            if (m.get("gflops_all_threads") instanceof Stats s) {
                peakGflops = s.max();
                peakText = String.format(Locale.ROOT, "FMA peak: %.1f GFLOP/s on %d threads (best of 5; %s)", s.max(), threads,
                        m.get("method"));
            } else {
                peakText = "FMA peak: " + m.get("method");
            }
        }
        System.out.print(report(root, peakGflops, peakText));
    }

    /** The Markdown text for the JMH result {@code root}; {@code peak} in GFLOP/s, or null. */
    static String report(List<?> root, Double peak, String peakText) {
        // device + shape -> benchmark -> GFLOP/s per measurement iteration
        Map<String, Map<String, List<Double>>> data = new LinkedHashMap<>();
        String jdk = "?";
        for (Object o : root) {
            Map<?, ?> run = (Map<?, ?>) o;
            String name = String.valueOf(run.get("benchmark"));
            if (!name.contains("AttentionBenchmark.")) {
                continue;
            }
            String bench = name.substring(name.lastIndexOf('.') + 1);
            jdk = run.get("jdkVersion") + " (" + run.get("vmName") + " " + run.get("vmVersion") + ")";
            Map<?, ?> params = (Map<?, ?>) run.get("params");
            String shape = String.valueOf(params.get("shape"));
            String device = String.valueOf(params.get("device"));
            AttentionBenchmark.Shape s = AttentionBenchmark.Shape.parse(shape);
            double flops = bench.equals("backward") ? s.backwardFlops() : s.forwardFlops();
            Map<?, ?> metric = (Map<?, ?>) run.get("primaryMetric");
            double toSeconds = secondsPerUnit(String.valueOf(metric.get("scoreUnit")));
            List<Double> g = new ArrayList<>();
            for (Object fork : (List<?>) metric.get("rawData")) {
                for (Object v : (List<?>) fork) {
                    g.add(flops / (((Number) v).doubleValue() * toSeconds) / 1e9);
                }
            }
            data.computeIfAbsent(device + " " + shape, k -> new LinkedHashMap<>()).put(bench, g);
        }
        StringBuilder out = new StringBuilder();
        out.append("JDK: ").append(jdk).append('\n');
        out.append(peakText).append('\n');
        out.append("causal self-attention between c_attn and c_proj (heads split, q k^T, causal softmax, P v, heads merge; backward"
                + " the same in reverse), shape BxTxHxD; GFLOP/s: forward 2 and backward 4 products of 2 B H T T D each (the"
                + " full T x T, the masked half included); median over the measurement iterations [min-max]")
                .append(peak == null ? "" : "; (x%): the median over the FMA peak").append("\n\n");
        out.append("| device | shape | GFLOP (forward) |");
        ORDER.forEach(b -> out.append(' ').append(b).append(" |"));
        out.append("\n|---|---|---|");
        ORDER.forEach(b -> out.append("---|"));
        out.append('\n');
        for (Map.Entry<String, Map<String, List<Double>>> e : data.entrySet()) {
            String[] key = e.getKey().split(" ");
            AttentionBenchmark.Shape s = AttentionBenchmark.Shape.parse(key[1]);
            out.append("| ").append(key[0]).append(" | ").append(key[1])
                    .append(String.format(Locale.ROOT, " | %.3f |", s.forwardFlops() / 1e9));
            for (String b : ORDER) {
                List<Double> g = e.getValue().get(b);
                if (g == null || g.isEmpty()) {
                    out.append(" - |");
                    continue;
                }
                Stats st = Stats.of(g);
                out.append(String.format(Locale.ROOT, " %.1f [%.1f-%.1f]", st.median(), st.min(), st.max()));
                if (peak != null) {
                    out.append(String.format(Locale.ROOT, " (%.0f%%)", 100 * st.median() / peak));
                }
                out.append(" |");
            }
            out.append('\n');
        }
        if (data.isEmpty()) {
            out.append("(no AttentionBenchmark results in the file)\n");
        }
        return out.toString();
    }

    private static double secondsPerUnit(String unit) {
        return switch (unit) {
            case "s/op" -> 1;
            case "ms/op" -> 1e-3;
            case "us/op" -> 1e-6;
            case "ns/op" -> 1e-9;
            default -> throw new IllegalArgumentException("expected an average-time unit, got " + unit);
        };
    }
}
