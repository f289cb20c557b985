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
 * Turns the JMH JSON result of {@link MatmulBenchmark} ({@code -rf json}) into a Markdown table of
 * GFLOP/s ({@code 2 n^3 / time}) per benchmark and size: the median over all measurement
 * iterations and the spread (min-max over the same iterations), then the Salvo/EJML ratios of the
 * medians. Usage: {@code MatmulReport target/jmh.json}.
 */
public final class MatmulReport {

    private static final String[] ORDER = {"salvoNN", "salvoTN", "salvoNT", "ejmlNN", "ejmlTN", "ejmlNT", "naive",
        "deviceNN cpu:0", "deviceNN opencl:0"};

    private MatmulReport() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "target/jmh.json");
        Object root = new ObjectMapper().readValue(file.toFile(), List.class);
        // benchmark -> n -> GFLOP/s per iteration
        Map<String, Map<Integer, double[]>> data = new LinkedHashMap<>();
        String jdk = "?";
        for (Object o : (List<?>) root) {
            Map<?, ?> run = (Map<?, ?>) o;
            String name = (String) run.get("benchmark");
            name = name.substring(name.lastIndexOf('.') + 1);
            Object device = ((Map<?, ?>) run.get("params")).get("device");
            if (device != null) {
                name = name + " " + device;
            }
            jdk = run.get("jdkVersion") + " (" + run.get("vmName") + " " + run.get("vmVersion") + ")";
            int n = Integer.parseInt((String) ((Map<?, ?>) run.get("params")).get("n"));
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

        boolean anyPair = Arrays.stream(new String[]{"NN", "TN", "NT"})
                .anyMatch(f -> data.containsKey("salvo" + f) && data.containsKey("ejml" + f));
        if (!anyPair) {
            System.out.print(out);
            return;
        }
        out.append("\n| Salvo / EJML (medians) |");
        sizes.forEach(n -> out.append(" n=").append(n).append(" |"));
        out.append('\n').append("|---|");
        sizes.forEach(n -> out.append("---|"));
        out.append('\n');
        for (String form : new String[]{"NN", "TN", "NT"}) {
            Map<Integer, double[]> s = data.get("salvo" + form);
            Map<Integer, double[]> e = data.get("ejml" + form);
            if (s == null || e == null) {
                continue;
            }
            out.append("| ").append(form).append(" |");
            for (int n : sizes) {
                double[] sv = s.get(n);
                double[] ev = e.get(n);
                out.append(sv == null || ev == null ? " - |"
                        : String.format(Locale.ROOT, " %.2fx |", median(sv) / median(ev)));
            }
            out.append('\n');
        }
        System.out.print(out);
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
