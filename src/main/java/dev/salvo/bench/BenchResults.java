package dev.salvo.bench;

import java.util.List;
import java.util.Map;

/** What {@code salvo bench} measures, for one device or one reference. */
public final class BenchResults {

    private BenchResults() {
    }

    /**
     * One model trained on one device (or by the reference) for a timed pass.
     *
     * @param source           device id ({@code cpu:0}) or reference name ({@code pytorch})
     * @param sourceName       device name or reference description
     * @param model            model name
     * @param layers           layer widths
     * @param batchSize        rows per step
     * @param rowsPerEpoch     rows of one epoch of the data
     * @param stepsPerEpoch    steps of one epoch
     * @param stepsTimed       steps of each timed pass (a whole epoch unless {@code extrapolated})
     * @param warmupSteps      steps run before timing, not counted
     * @param extrapolated     true when a pass ran fewer steps than an epoch: the epoch time is
     *                         {@code rowsPerEpoch / samplesPerSecond}
     * @param secondsPerEpoch  over the timed passes
     * @param samplesPerSecond over the timed passes
     * @param meanLoss         mean training loss of the last timed pass (a sanity check)
     * @param profile          shares from the synchronized profiling pass; null for references
     */
    public record Training(String source, String sourceName, String model, List<Integer> layers, int batchSize,
                           int rowsPerEpoch, int stepsPerEpoch, int stepsTimed, int warmupSteps, boolean extrapolated,
                           Stats secondsPerEpoch, Stats samplesPerSecond, double meanLoss, Profile profile) {
    }

    /**
     * Where the time of a step goes, from a separate pass through {@link TimingDevice}, which
     * synchronizes after every op (so the pass itself is slower than the timed one).
     *
     * @param steps            steps profiled
     * @param seconds          wall time of the profiled pass
     * @param samplesPerSecond of the profiled pass
     * @param matmul           share of the wall time in matmul ops (0..1)
     * @param elementwise      share in every other op
     * @param host             the rest: batching, uploads and downloads, Java, synchronization gaps
     * @param ops              per op: calls and seconds (uploads and downloads included)
     */
    public record Profile(int steps, double seconds, double samplesPerSecond, double matmul, double elementwise,
                          double host, Map<String, OpTime> ops) {
    }

    /** Calls of one op and the seconds spent in them. */
    public record OpTime(long calls, double seconds) {
    }

    /**
     * Square float32 matmul {@code C (n,n) = A (n,n) B (n,n)} on one device or reference.
     *
     * @param source         device id or reference name
     * @param n              the size
     * @param callsPerSample calls timed together in each sample
     * @param gflops         {@code 2 n^3 / seconds per call}, over the samples
     */
    public record Matmul(String source, int n, int callsPerSample, Stats gflops) {
    }
}
