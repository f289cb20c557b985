package dev.salvo.bench;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The training part of {@code salvo bench --allreduce --train}: what a data-parallel run's
 * {@code summary.json} says about its gradient all-reduce (the {@code "distributed"} object the
 * data-parallel trainer writes: ranks, steps, bucket_floats, allreduce_seconds, exposed_seconds,
 * overlap_share), the step time of 1 rank against 2 at the same per-rank batch, and the table.
 */
public final class TrainOverhead {

    private TrainOverhead() {
    }

    /**
     * One run's figures.
     *
     * @param ranks            ranks of the job
     * @param steps            optimizer steps each rank took
     * @param bucketFloats     the gradient buckets, in launch order
     * @param allreduceSeconds time inside the gradients' all-reduces, all steps
     * @param exposedSeconds   time the training thread waited for them after backward ended, all steps
     * @param overlapShare     1 - exposed / allreduce: the share hidden behind backward
     * @param trainSeconds     the training steps' wall time (the epochs' "seconds" in the history, summed)
     */
    public record Run(int ranks, long steps, int[] bucketFloats, double allreduceSeconds, double exposedSeconds,
                      double overlapShare, double trainSeconds) {

        public double stepSeconds() {
            return trainSeconds / steps;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ranks", ranks);
            m.put("steps", steps);
            m.put("bucket_floats", bucketFloats);
            m.put("train_seconds", trainSeconds);
            m.put("step_seconds", stepSeconds());
            m.put("allreduce_seconds", allreduceSeconds);
            m.put("exposed_seconds", exposedSeconds);
            m.put("overlap_share", Double.isNaN(overlapShare) ? null : overlapShare);
            return m;
        }
    }

    /**
     * The run that {@code summary} (a parsed summary.json) describes; throws {@link IllegalStateException}
     * with one line when it has no {@code "distributed"} object (the trainer does not write it yet) or
     * the object lacks a field.
     */
    public static Run parse(JsonNode summary, String where) {
        JsonNode d = summary.path("distributed");
        if (!d.isObject()) {
            throw new IllegalStateException(where + " has no \"distributed\" object: this salvo train is not the data-parallel"
                    + " trainer yet (issue 15), so the 2-rank overhead and overlap share are not measured");
        }
        for (String k : List.of("ranks", "steps", "allreduce_seconds", "exposed_seconds", "overlap_share")) {
            if (!d.path(k).isNumber()) {
                throw new IllegalStateException(where + ": \"distributed\"." + k + " is missing or not a number");
            }
        }
        int[] buckets = new int[d.path("bucket_floats").size()];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = d.path("bucket_floats").get(i).asInt();
        }
        int epochs = summary.path("history").size();
        double train = lastEpochSeconds(summary);
        long steps = epochs == 0 ? 0 : d.get("steps").asLong() / epochs;
        if (!(train > 0) || steps < 1) {
            throw new IllegalStateException(where + ": no timed training steps (last epoch's seconds " + train + ", steps "
                    + d.get("steps").asLong() + ")");
        }
        // the last epoch's step time (the first ones include the JIT's warm-up); the all-reduce figures per epoch on average
        return new Run(d.get("ranks").asInt(), steps, buckets, d.get("allreduce_seconds").asDouble() / epochs,
                d.get("exposed_seconds").asDouble() / epochs, d.get("overlap_share").asDouble(), train);
    }

    private static double lastEpochSeconds(JsonNode summary) {
        JsonNode h = summary.path("history");
        return h.size() == 0 ? 0 : h.get(h.size() - 1).path("seconds").asDouble();
    }

    /**
     * A single-process run ({@code salvo train} without mpirun): its "distributed" object where it has
     * one, else 1 rank whose steps are the epoch's samples over {@code batch} (rounded up, one epoch:
     * samples_per_second x wall_seconds) and no all-reduce.
     */
    public static Run parseSingle(JsonNode summary, String where, int batch) {
        if (summary.path("distributed").isObject()) {
            return parse(summary, where);
        }
        int epochs = summary.path("epochs_run").asInt();
        if (epochs < 1 || !summary.path("samples_per_second").isNumber() || !summary.path("wall_seconds").isNumber()) {
            throw new IllegalStateException(where + ": expected epochs with samples_per_second and wall_seconds");
        }
        long samples = Math.round(summary.get("samples_per_second").asDouble() * summary.get("wall_seconds").asDouble() / epochs);
        long steps = (samples + batch - 1) / batch;
        double train = lastEpochSeconds(summary);
        if (!(train > 0) || steps < 1) {
            throw new IllegalStateException(where + ": no timed training steps (history seconds " + train + ", samples " + samples + ")");
        }
        return new Run(1, steps, new int[0], 0, 0, Double.NaN, train);
    }

    /** One network: the 1-rank and the 2-rank run at the same per-rank batch. */
    public record Row(String network, int batchPerRank, Run one, Run two) {

        /** 2-rank step time over 1-rank, minus one. */
        public double overhead() {
            return two.stepSeconds() / one.stepSeconds() - 1;
        }

        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("network", network);
            m.put("batch_per_rank", batchPerRank);
            m.put("one_rank", one.toMap());
            m.put("two_ranks", two.toMap());
            m.put("step_overhead", overhead());
            m.put("overlap_share", two.overlapShare());
            return m;
        }
    }

    /** The markdown table: step time of 1 and 2 ranks, the overhead, the all-reduce per step, exposed per step, overlap share. */
    public static String table(List<Row> rows) {
        StringBuilder t = new StringBuilder();
        t.append("| network | batch/rank | step 1 rank | step 2 ranks | overhead | all-reduce/step | exposed/step | overlap share |\n");
        t.append("|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            t.append(String.format(Locale.ROOT, "| %s | %d | %.2f ms | %.2f ms | %+.1f%% | %.2f ms | %.2f ms | %.0f%% |%n",
                    r.network(), r.batchPerRank(), 1e3 * r.one().stepSeconds(), 1e3 * r.two().stepSeconds(), 100 * r.overhead(),
                    1e3 * r.two().allreduceSeconds() / r.two().steps(), 1e3 * r.two().exposedSeconds() / r.two().steps(),
                    100 * r.two().overlapShare()));
        }
        return t.toString();
    }
}
