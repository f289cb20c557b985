package dev.salvo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.dist.Communicator;
import dev.salvo.nn.ParamLayout;
import dev.salvo.train.DataParallel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The gradient all-reduce of {@code salvo bench --allreduce}: the bucket plan of a network's flat
 * gradient buffer, Salvo's side of the timing (the {@link Communicator} on direct buffers, run by
 * every rank of {@code mpirun}), and the parsing and formatting of the results of both sides. The C
 * side is {@code salvo/bench/allreduce_bench.c} (this class's resource {@link #C_SOURCE}); both time
 * the same step the same way and print the same JSON line on rank 0.
 */
public final class AllReduceBench {

    /** The C baseline's class-path resource. */
    public static final String C_SOURCE = "salvo/bench/allreduce_bench.c";
    /** Untimed steps before timing, on both sides (the C program's {@code WARMUP}). */
    public static final int WARMUP = 5;
    /** Floats in one MiB of float32. */
    public static final int FLOATS_PER_MIB = 1 << 18;

    private AllReduceBench() {
    }

    /** Floats in a bucket of {@code mib} MiB (at least 1); throws for a non-positive or non-finite size. */
    public static int bucketFloats(double mib) {
        if (!Double.isFinite(mib) || mib <= 0 || mib * FLOATS_PER_MIB > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--bucket-mb must be a positive number of MiB below 8192, got " + mib);
        }
        return (int) Math.max(1, Math.round(mib * FLOATS_PER_MIB));
    }

    /** The gradient buckets of {@code layout} in launch order: the trainer's own plan, {@link DataParallel#buckets}. */
    public static int[][] buckets(ParamLayout layout, int bucketFloats) {
        return DataParallel.buckets(layout.size(), bucketFloats);
    }

    /** {@link #buckets(ParamLayout, int)} of a flat buffer of {@code size} floats. */
    public static int[][] buckets(int size, int bucketFloats) {
        return DataParallel.buckets(size, bucketFloats);
    }

    /** The lengths of {@code buckets}, in order. */
    public static int[] lengths(int[][] buckets) {
        return Arrays.stream(buckets).mapToInt(b -> b[1]).toArray();
    }

    /** The C program's source text. */
    public static String cSource() {
        try (InputStream in = AllReduceBench.class.getClassLoader().getResourceAsStream(C_SOURCE)) {
            if (in == null) {
                throw new IllegalStateException(C_SOURCE + " is missing from the class path");
            }
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The q-quantile of sorted values, linear between order statistics (as the C program computes it). */
    public static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) pos;
        if (i + 1 >= sorted.length) {
            return sorted[sorted.length - 1];
        }
        return sorted[i] + (sorted[i + 1] - sorted[i]) * (pos - i);
    }

    /**
     * Salvo's side, run on every rank: one direct buffer per bucket (as {@code Device.allocHostStaging}
     * allocates them), a checked sum, {@link #WARMUP} untimed steps, then {@code iterations} steps of a
     * barrier and {@link Communicator#allReduceSum(FloatBuffer, int, int)} of every bucket in order.
     * Returns the JSON line rank 0 prints (the C program's keys); null on the other ranks.
     */
    public static String time(Communicator comm, int iterations, int[] floats) {
        FloatBuffer[] buf = new FloatBuffer[floats.length];
        long total = 0;
        String check = "ok";
        float want = comm.size() * (comm.size() + 1) / 2f;
        for (int b = 0; b < floats.length; b++) {
            buf[b] = ByteBuffer.allocateDirect(4 * floats[b]).order(ByteOrder.nativeOrder()).asFloatBuffer();
            total += floats[b];
            for (int i = 0; i < floats[b]; i++) {
                buf[b].put(i, comm.rank() + 1);
            }
            comm.allReduceSum(buf[b], 0, floats[b]);
            if (buf[b].get(0) != want || buf[b].get(floats[b] - 1) != want || buf[b].get(floats[b] / 2) != want) {
                check = "wrong sum";
            }
            for (int i = 0; i < floats[b]; i++) {
                buf[b].put(i, 0f);
            }
        }
        double[] step = new double[iterations];
        double[][] per = new double[floats.length][iterations];
        for (int it = -WARMUP; it < iterations; it++) {
            comm.barrier();
            long t0 = System.nanoTime();
            for (int b = 0; b < floats.length; b++) {
                long tb = System.nanoTime();
                comm.allReduceSum(buf[b], 0, floats[b]);
                if (it >= 0) {
                    per[b][it] = (System.nanoTime() - tb) * 1e-9;
                }
            }
            if (it >= 0) {
                step[it] = (System.nanoTime() - t0) * 1e-9;
            }
        }
        if (comm.rank() != 0) {
            return null;
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("step_samples", step.clone());
        double[][] samples = new double[floats.length][];
        for (int b = 0; b < floats.length; b++) {
            samples[b] = per[b].clone();
        }
        r.put("bucket_samples", samples);
        Arrays.sort(step);
        r.put("program", "salvo");
        r.put("mpi", comm.describe());
        r.put("ranks", comm.size());
        r.put("iterations", iterations);
        r.put("warmup", WARMUP);
        r.put("bucket_floats", floats);
        r.put("bytes", 4 * total);
        r.put("check", check);
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("median", quantile(step, 0.5));
        s.put("min", step[0]);
        s.put("max", step[iterations - 1]);
        s.put("p10", quantile(step, 0.1));
        s.put("p90", quantile(step, 0.9));
        r.put("step_seconds", s);
        double[] medians = new double[floats.length];
        for (int b = 0; b < floats.length; b++) {
            Arrays.sort(per[b]);
            medians[b] = quantile(per[b], 0.5);
        }
        r.put("bucket_median_seconds", medians);
        try {
            return new ObjectMapper().writeValueAsString(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * One side's result: the step's median, min, max, p10 and p90 seconds and each bucket's median,
     * from every sample where the JSON line carries them (so that runs can be {@linkplain #pool pooled}).
     */
    public record Side(String program, String mpi, int ranks, int iterations, int[] bucketFloats, long bytes, String check,
                       double median, double min, double max, double p10, double p90, double[] bucketMedians,
                       double[] stepSamples, double[][] bucketSamples) {

        /** The statistics of these samples (step seconds; per bucket, that bucket's call seconds). */
        public static Side of(String program, String mpi, int ranks, int[] bucketFloats, String check, double[] steps,
                              double[][] buckets) {
            double[] s = steps.clone();
            Arrays.sort(s);
            double[] med = new double[buckets.length];
            for (int b = 0; b < buckets.length; b++) {
                double[] x = buckets[b].clone();
                Arrays.sort(x);
                med[b] = quantile(x, 0.5);
            }
            return new Side(program, mpi, ranks, steps.length, bucketFloats,
                    4 * Arrays.stream(bucketFloats).asLongStream().sum(), check, quantile(s, 0.5), s[0], s[s.length - 1],
                    quantile(s, 0.1), quantile(s, 0.9), med, steps, buckets);
        }

        /** Several runs of the same side as one: their samples together; the check "ok" only if every run's was. */
        public static Side pool(List<Side> runs) {
            Side first = runs.get(0);
            double[] steps = runs.stream().flatMapToDouble(r -> Arrays.stream(r.stepSamples())).toArray();
            double[][] buckets = new double[first.bucketFloats().length][];
            for (int b = 0; b < buckets.length; b++) {
                int k = b;
                buckets[b] = runs.stream().flatMapToDouble(r -> Arrays.stream(r.bucketSamples()[k])).toArray();
            }
            String check = runs.stream().map(Side::check).filter(c -> !c.equals("ok")).findFirst().orElse("ok");
            return of(first.program(), first.mpi(), first.ranks(), first.bucketFloats(), check, steps, buckets);
        }

        /** The last line of {@code output} that starts with '{', parsed; throws naming {@code who} when there is none. */
        public static Side parse(String who, String output) {
            String line = null;
            for (String l : output.lines().toList()) {
                if (l.startsWith("{")) {
                    line = l;
                }
            }
            if (line == null) {
                throw new IllegalStateException(who + " printed no JSON result line");
            }
            try {
                JsonNode n = new ObjectMapper().readTree(line);
                JsonNode s = n.path("step_seconds");
                int[] floats = new int[n.path("bucket_floats").size()];
                for (int i = 0; i < floats.length; i++) {
                    floats[i] = n.path("bucket_floats").get(i).asInt();
                }
                if (n.path("step_samples").size() > 0 && n.path("bucket_samples").size() == floats.length) {
                    double[][] b = new double[floats.length][];
                    for (int i = 0; i < floats.length; i++) {
                        b[i] = doubles(n.path("bucket_samples").get(i));
                    }
                    return of(n.path("program").asText(), n.path("mpi").asText(), n.path("ranks").asInt(), floats,
                            n.path("check").asText(), doubles(n.path("step_samples")), b);
                }
                double[] med = doubles(n.path("bucket_median_seconds"));
                for (String k : List.of("median", "min", "max", "p10", "p90")) {
                    if (!s.path(k).isNumber()) {
                        throw new IllegalStateException(who + ": step_seconds." + k + " missing in " + line);
                    }
                }
                return new Side(n.path("program").asText(), n.path("mpi").asText(), n.path("ranks").asInt(),
                        n.path("iterations").asInt(), floats, n.path("bytes").asLong(), n.path("check").asText(),
                        s.get("median").asDouble(), s.get("min").asDouble(), s.get("max").asDouble(), s.get("p10").asDouble(),
                        s.get("p90").asDouble(), med, new double[0], new double[0][]);
            } catch (IOException e) {
                throw new IllegalStateException(who + " printed a result line that is not JSON: " + line, e);
            }
        }

        private static double[] doubles(JsonNode a) {
            double[] d = new double[a.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = a.get(i).asDouble();
            }
            return d;
        }

        /** For allreduce.json. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("program", program);
            m.put("mpi", mpi);
            m.put("ranks", ranks);
            m.put("iterations", iterations);
            m.put("bytes", bytes);
            m.put("check", check);
            m.put("step_seconds", Map.of("median", median, "min", min, "max", max, "p10", p10, "p90", p90));
            m.put("bucket_median_seconds", bucketMedians);
            m.put("step_samples", stepSamples);
            return m;
        }
    }

    /**
     * One network's row: its buckets and both sides ({@code salvo} null where Salvo's side did not run,
     * with {@code salvoNote} saying why).
     */
    public record Row(String network, long parameters, int[] bucketFloats, Side c, Side salvo, String salvoNote) {

        public long bytes() {
            return 4L * Arrays.stream(bucketFloats).asLongStream().sum();
        }

        /** Salvo's median over the C program's; NaN without Salvo's side. */
        public double ratio() {
            return salvo == null ? Double.NaN : salvo.median() / c.median();
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("network", network);
            m.put("parameters", parameters);
            m.put("bucket_floats", bucketFloats);
            m.put("bytes", bytes());
            m.put("c_mpi_allreduce", c.toMap());
            m.put("salvo", salvo == null ? null : salvo.toMap());
            if (salvoNote != null) {
                m.put("salvo_note", salvoNote);
            }
            m.put("salvo_over_c", salvo == null ? null : ratio());
            return m;
        }
    }

    /** "4.50 ms [3.64-7.96]": a side's median and range of one step. */
    public static String describe(Side s) {
        return s == null ? "n/a" : String.format(Locale.ROOT, "%s [%s-%s]", ms(s.median()), ms(s.min()).replace(" ms", ""),
                ms(s.max()));
    }

    private static String ms(double seconds) {
        double m = seconds * 1e3;
        return String.format(Locale.ROOT, m < 1 ? "%.3f ms" : m < 10 ? "%.2f ms" : "%.1f ms", m);
    }

    /** The markdown table of {@code rows}: network, buckets, bytes, both sides' median [min-max] per step and the ratio. */
    public static String table(List<Row> rows) {
        StringBuilder t = new StringBuilder();
        t.append("| network | buckets | bytes | C MPI_Allreduce median [min-max] | Salvo median [min-max] | Salvo / C |\n");
        t.append("|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            t.append(String.format(Locale.ROOT, "| %s | %d | %,d | %s | %s | %s |%n", r.network(), r.bucketFloats().length,
                    r.bytes(), describe(r.c()), describe(r.salvo()),
                    r.salvo() == null ? "n/a" : String.format(Locale.ROOT, "%.2fx", r.ratio())));
        }
        return t.toString();
    }
}
