package dev.salvo.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns the JMH JSON result of {@link MatmulBenchmark} ({@code -rf json}) into Markdown tables of
 * GFLOP/s ({@code 2 n^3 / time}): every benchmark and size as the median over all measurement
 * iterations with the spread (min-max over the same iterations); then, per form (NN, TN, NT) and
 * size, Salvo, OpenBLAS and EJML side by side with the ratio of the Salvo and OpenBLAS medians
 * against the goal of issue 6 (at least 0.4x OpenBLAS at n=256 and 0.6x at n=1024 and 2048; sizes
 * without a goal show the ratio only). Usage: {@code MatmulReport target/jmh.json}.
 */
public final class MatmulReport {

    private static final String[] ORDER = {"salvoNN", "salvoTN", "salvoNT", "openblasNN", "openblasTN", "openblasNT",
        "ejmlNN", "ejmlTN", "ejmlNT", "naive",
        "deviceNN cpu:0", "deviceNN opencl:0"};

    private MatmulReport() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "target/jmh.json");
        Object root = new ObjectMapper().readValue(file.toFile(), List.class);
        // benchmark -> n -> GFLOP/s per iteration
        Map<String, Map<Integer, double[]>> data = new LinkedHashMap<>();
        String jdk = "?";
        StringBuilder other = new StringBuilder("| benchmark (params) | score | allocated B/op (gc.alloc.rate.norm) |\n|---|---|---|\n");
        for (Object o : (List<?>) root) {
            Map<?, ?> run = (Map<?, ?>) o;
            String name = (String) run.get("benchmark");
            name = name.substring(name.lastIndexOf('.') + 1);
            Object device = ((Map<?, ?>) run.get("params")).get("device");
            if (device != null) {
                name = name + " " + device;
            }
            jdk = run.get("jdkVersion") + " (" + run.get("vmName") + " " + run.get("vmVersion") + ")";
            Map<?, ?> secondary = (Map<?, ?>) run.get("secondaryMetrics");
            Object alloc = secondary == null ? null : secondary.get("gc.alloc.rate.norm");
            Map<?, ?> primary = (Map<?, ?>) run.get("primaryMetric");
            other.append(String.format(java.util.Locale.ROOT, "| %s %s | %.3f %s | %s |%n", name, run.get("params"),
                    ((Number) primary.get("score")).doubleValue(), primary.get("scoreUnit"),
                    alloc == null ? "-" : String.format(java.util.Locale.ROOT, "%.1f", ((Number) ((Map<?, ?>) alloc).get("score")).doubleValue())));
            Object nParam = ((Map<?, ?>) run.get("params")).get("n");
            if (nParam == null) {
                continue; // not a square-matmul benchmark (e.g. TrainStepBenchmark): listed below only
            }
            int n = Integer.parseInt((String) nParam);
            Map<?, ?> metric = (Map<?, ?>) run.get("primaryMetric");
            double toSeconds = secondsPerUnit((String) metric.get("scoreUnit"));
            List<Double> g = new ArrayList<>();
            for (Object fork : (List<?>) metric.get("rawData")) {
                for (Object v : (List<?>) fork) {
                    double seconds = ((Number) v).doubleValue() * toSeconds;
                    g.add(2.0 * n * n * n / seconds / 1e9);
                }
            }
            double[] arr = g.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            data.computeIfAbsent(name, x -> new TreeMap<>()).put(n, arr);
        }

        StringBuilder out = new StringBuilder();
        out.append("JDK: ").append(jdk).append('\n');
        out.append("GFLOP/s = 2 n^3 / time; median over measurement iterations [min-max]\n\n");
        List<Integer> sizes = data.values().stream().flatMap(m -> m.keySet().stream())
                .distinct().sorted().toList();
        out.append("| benchmark |");
        sizes.forEach(n -> out.append(" n=").append(n).append(" |"));
        out.append('\n').append("|---|");
        sizes.forEach(n -> out.append("---|"));
        out.append('\n');
        List<String> names = new ArrayList<>(Arrays.asList(ORDER));
        data.keySet().stream().filter(k -> !names.contains(k)).forEach(names::add);
        for (String name : names) {
            Map<Integer, double[]> byN = data.get(name);
            if (byN == null) {
                continue;
            }
            out.append("| ").append(name).append(" |");
            for (int n : sizes) {
                double[] v = byN.get(n);
                out.append(v == null ? " - |" : String.format(Locale.ROOT, " %.1f [%.1f-%.1f] |",
                        median(v), v[0], v[v.length - 1]));
            }
            out.append('\n');
        }

        out.append('\n');
        if (!data.isEmpty()) {
            goals(data, sizes, out);
        }
        out.append("\nEvery benchmark, JMH's score and the bytes it allocated per operation (all threads):\n\n").append(other);
        System.out.print(out);
    }

    /** Goal of issue 6 for Salvo / OpenBLAS at size n, or NaN where the issue sets none. */
    static double goal(int n) {
        return switch (n) {
            case 256 -> 0.4;
            case 1024, 2048 -> 0.6;
            default -> Double.NaN;
        };
    }

    private static void goals(Map<String, Map<Integer, double[]>> data, List<Integer> sizes, StringBuilder out) {
        out.append("| form | n | Salvo | OpenBLAS | EJML | Salvo / OpenBLAS | goal | |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        int met = 0;
        int missed = 0;
        for (String form : new String[]{"NN", "TN", "NT"}) {
            Map<Integer, double[]> s = data.get("salvo" + form);
            if (s == null) {
                continue;
            }
            Map<Integer, double[]> o = data.getOrDefault("openblas" + form, Map.of());
            Map<Integer, double[]> e = data.getOrDefault("ejml" + form, Map.of());
            for (int n : sizes) {
                double[] sv = s.get(n);
                if (sv == null) {
                    continue;
                }
                double[] ov = o.get(n);
                double g = goal(n);
                String ratio = "-";
                String verdict = "no reference";
                if (ov != null) {
                    double r = median(sv) / median(ov);
                    ratio = String.format(Locale.ROOT, "%.2fx", r);
                    if (Double.isNaN(g)) {
                        verdict = "no goal";
                    } else if (r >= g) {
                        verdict = "met";
                        met++;
                    } else {
                        verdict = String.format(Locale.ROOT, "NOT met (%.0f%% short)", 100 * (g - r) / g);
                        missed++;
                    }
                }
                out.append("| ").append(form).append(" | ").append(n).append(" | ")
                        .append(cell(sv)).append(" | ").append(cell(ov)).append(" | ").append(cell(e.get(n)))
                        .append(" | ").append(ratio).append(" | ")
                        .append(Double.isNaN(g) ? "-" : String.format(Locale.ROOT, ">= %.1fx", g))
                        .append(" | ").append(verdict).append(" |\n");
            }
        }
        out.append(String.format(Locale.ROOT, "%nGoal points met: %d of %d%n", met, met + missed));
    }

    private static String cell(double[] v) {
        return v == null ? "-" : String.format(Locale.ROOT, "%.1f [%.1f-%.1f]", median(v), v[0], v[v.length - 1]);
    }

    private static double median(double[] sorted) {
        int len = sorted.length;
        return len % 2 == 1 ? sorted[len / 2] : (sorted[len / 2 - 1] + sorted[len / 2]) / 2;
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
