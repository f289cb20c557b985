package dev.salvo.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

    private static final String[] ORDER = {"salvoNN", "salvoTN", "salvoNT", "ejmlNN", "ejmlTN", "ejmlNT", "naive"};

    private MatmulReport() {
    }

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args.length > 0 ? args[0] : "target/jmh.json");
        Object root = new Json(Files.readString(file, StandardCharsets.UTF_8)).parse();
        // benchmark -> n -> GFLOP/s per iteration
        Map<String, Map<Integer, double[]>> data = new LinkedHashMap<>();
        String jdk = "?";
        for (Object o : (List<?>) root) {
            Map<?, ?> run = (Map<?, ?>) o;
            String name = (String) run.get("benchmark");
            name = name.substring(name.lastIndexOf('.') + 1);
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

    /** Just enough JSON for JMH's result file: objects, arrays, strings, numbers, literals. */
    private static final class Json {
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object parse() {
            Object v = value();
            ws();
            if (i != s.length()) {
                throw error("trailing data");
            }
            return v;
        }

        private Object value() {
            ws();
            char c = s.charAt(i);
            switch (c) {
                case '{':
                    return object();
                case '[':
                    return array();
                case '"':
                    return string();
                default:
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    return number();
            }
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (s.charAt(i) == '}') {
                i++;
                return m;
            }
            while (true) {
                ws();
                String key = string();
                ws();
                expect(':');
                m.put(key, value());
                ws();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }

        private List<Object> array() {
            List<Object> l = new ArrayList<>();
            i++;
            ws();
            if (s.charAt(i) == ']') {
                i++;
                return l;
            }
            while (true) {
                l.add(value());
                ws();
                if (s.charAt(i) == ',') {
                    i++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c == '\\') {
                    char e = s.charAt(i++);
                    switch (e) {
                        case 'n' -> b.append('\n');
                        case 't' -> b.append('\t');
                        case 'r' -> b.append('\r');
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                            i += 4;
                        }
                        default -> b.append(e);
                    }
                } else {
                    b.append(c);
                }
            }
        }

        private Double number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String t = s.substring(start, i);
            if (t.isEmpty()) {
                // JMH writes "NaN" for missing values
                if (s.startsWith("\"NaN\"", i) || s.startsWith("NaN", i)) {
                    i += s.charAt(i) == '"' ? 5 : 3;
                    return Double.NaN;
                }
                throw error("unexpected character");
            }
            return Double.parseDouble(t);
        }

        private void expect(char c) {
            if (s.charAt(i) != c) {
                throw error("expected '" + c + "'");
            }
            i++;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException("bad JSON at " + i + ": " + what);
        }
    }
}
