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
}
