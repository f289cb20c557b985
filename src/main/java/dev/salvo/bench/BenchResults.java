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
     * @param layers           layer widths of an MLP; input and output widths of another network
     * @param network          the network in one line (Salvo's description, or the reference's)
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
    public record Training(String source, String sourceName, String model, List<Integer> layers, String network, int batchSize,
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
     * One conv2d layer of a benchmarked network, forward and backward, on one device or the reference.
     * FLOPs: forward {@code 2 N OC OH OW C k^2} (the product {@code Gemm(OC, N OH OW, C k^2)});
     * backward the same for the weight gradient, and again for the input gradient where the layer
     * computes one (not for a first layer, whose input is the data).
     *
     * @param source           device id or reference name
     * @param model            the network's model name
     * @param layer            the layer's name in the network, e.g. {@code layers.0}
     * @param batch            rows of a full batch (N)
     * @param channels         input channels (C)
     * @param height           input height
     * @param width            input width
     * @param outChannels      output channels (OC)
     * @param kernel           kernel size (k x k)
     * @param stride           stride
     * @param pad              zero padding
     * @param outHeight        output height (OH)
     * @param outWidth         output width (OW)
     * @param inputGradient    whether backward computes the input gradient too
     * @param forwardFlops     FLOPs of one forward call over a full batch
     * @param backwardFlops    FLOPs of one backward call over a full batch
     * @param forwardGflops    GFLOP/s over the samples (Salvo: each call of the profiling pass)
     * @param backwardGflops   GFLOP/s over the samples
     * @param forwardGemmShare share of the forward time in the matrix product (the rest: im2col, layout
     *                         swap); null where not measured (the reference)
     * @param backwardGemmShare share of the backward time in the matrix products (the rest: layout
     *                         swap, col2im); null where not measured
     * @param method           how it was timed
     */
    public record Conv(String source, String model, String layer, int batch, int channels, int height, int width,
                       int outChannels, int kernel, int stride, int pad, int outHeight, int outWidth,
                       boolean inputGradient, double forwardFlops, double backwardFlops, Stats forwardGflops,
                       Stats backwardGflops, Double forwardGemmShare, Double backwardGemmShare, String method) {

        /** FLOPs of a conv2d forward over {@code n} rows: {@code 2 n OC OH OW C k^2}. */
        public static double forwardFlops(int n, int channels, int outChannels, int outHeight, int outWidth, int kernel) {
            return 2.0 * n * outChannels * outHeight * outWidth * channels * kernel * kernel;
        }

        /** {@code 1x28x28 -> 32x28x28 3x3 p1}. */
        public String shape() {
            return channels + "x" + height + "x" + width + " -> " + outChannels + "x" + outHeight + "x" + outWidth + " "
                    + kernel + "x" + kernel + (stride == 1 ? "" : " s" + stride) + (pad == 0 ? "" : " p" + pad);
        }
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

    /**
     * Median, range, 10th and 90th percentiles and mean of many measurements (one per training step),
     * without the values themselves (thousands of steps).
     *
     * @param median the median (mean of the middle two for an even count)
     * @param min    the smallest value
     * @param max    the largest value
     * @param p10    the 10th percentile (linear between the nearest ranks, as numpy's default)
     * @param p90    the 90th percentile
     * @param mean   the mean
     * @param count  how many values
     */
    public record Spread(double median, double min, double max, double p10, double p90, double mean, int count) {

        /** The spread of {@code values} (at least one, every one finite). */
        public static Spread of(double[] values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("no values");
            }
            double[] s = values.clone();
            java.util.Arrays.sort(s);
            double sum = 0;
            for (double v : s) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("not a finite value: " + v);
                }
                sum += v;
            }
            return new Spread(quantile(s, 0.5), s[0], s[s.length - 1], quantile(s, 0.1), quantile(s, 0.9),
                    sum / s.length, s.length);
        }

        /** {@code tokens / seconds} of a spread of step seconds: the same ranks, inverted (the slowest step is the min). */
        public Spread rate(double tokens) {
            return new Spread(tokens / median, tokens / max, tokens / min, tokens / p90, tokens / p10, tokens / mean, count);
        }

        static double quantile(double[] sorted, double q) {
            double pos = q * (sorted.length - 1);
            int lo = (int) Math.floor(pos);
            int hi = Math.min(lo + 1, sorted.length - 1);
            return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
        }
    }

    /**
     * The GPT recipe ({@code salvo bench --gpt}) trained on one device or by the reference.
     *
     * @param source          device id or reference name
     * @param sourceName      device name or reference description
     * @param model           e.g. {@code gpt 4 layers, 4 heads, 128 wide, context 64}
     * @param parameters      trainable values (a tied weight counted once)
     * @param batchSize       windows per step
     * @param context         tokens per window (T)
     * @param steps           training steps run
     * @param skippedSteps    first steps left out of the timed figures
     * @param stepSeconds     seconds per timed step
     * @param tokensPerSecond {@code batch * context} over each timed step's seconds (the mean: timed tokens
     *                        over the timed steps' total seconds)
     * @param trainSeconds    wall time of every training step (skipped ones included), evaluation excluded
     * @param wallSeconds     wall time of the whole run (model building, training, evaluation)
     * @param valLoss         mean cross-entropy over every position of the fixed validation windows
     * @param valWindows      how many validation windows
     * @param finalTrainLoss  mean training loss of the last steps read back
     * @param profile         shares from a separate synchronized pass; null for the reference
     * @param timing          how a step was timed
     * @param blockMedians    median seconds per step of each block of {@link #BLOCK} steps (the skipped
     *                        steps left out of the first): drift, warm-up and interference over the run
     */
    public record Gpt(String source, String sourceName, String model, long parameters, int batchSize, int context,
                      int steps, int skippedSteps, Spread stepSeconds, Spread tokensPerSecond, double trainSeconds,
                      double wallSeconds, double valLoss, int valWindows, double finalTrainLoss, GptProfile profile,
                      String timing, List<Double> blockMedians) {

        /** Steps per block of {@link #blockMedians}. */
        public static final int BLOCK = 100;

        public Gpt {
            blockMedians = List.copyOf(blockMedians);
        }

        /** Medians of each block of {@link #BLOCK} steps of {@code stepSeconds}, from {@code skip} on. */
        public static List<Double> blockMedians(double[] stepSeconds, int skip) {
            List<Double> out = new java.util.ArrayList<>();
            for (int from = 0; from < stepSeconds.length; from += BLOCK) {
                int lo = Math.max(from, skip);
                int hi = Math.min(stepSeconds.length, from + BLOCK);
                if (lo < hi) {
                    out.add(Spread.of(java.util.Arrays.copyOfRange(stepSeconds, lo, hi)).median());
                }
            }
            return out;
        }
    }

    /**
     * Where a GPT step's time goes, from a separate pass through {@link TimingDevice}: shares of the
     * pass's wall time in the declared ops grouped by family ({@code matmul}, {@code attention},
     * {@code layernorm}, {@code optimizer}; every other family under {@code other}) and the rest
     * ({@code host}: batching, copies, Java, synchronization gaps).
     *
     * @param steps    steps profiled
     * @param seconds  wall time of the pass
     * @param shares   group -> share of {@code seconds} (0..1), in the order matmul, attention,
     *                 layernorm, optimizer, other, host
     * @param families every family called -> seconds
     * @param ops      per op (dashed name): calls and seconds, copies included
     */
    public record GptProfile(int steps, double seconds, Map<String, Double> shares, Map<String, Double> families,
                             Map<String, OpTime> ops) {
    }
}
