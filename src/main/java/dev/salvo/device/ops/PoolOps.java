package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import java.util.List;
import java.util.Random;

/**
 * Pooling over NCHW tensors ({@code kernels/pool.kernel}): max and average pooling over square
 * {@code k x k} windows with a stride and zero padding
 * ({@code oh = (h + 2 pad - k) / stride + 1}, likewise {@code ow}), and global average pooling
 * over each {@code S = H*W} plane. As PyTorch's {@code max_pool2d} and {@code avg_pool2d}
 * (floor mode, {@code count_include_pad=True}): padding counts as -inf for max and as 0 for the
 * average, which divides by {@code k*k}. Windowed kernels run one work-item per row (an
 * output row forward, an input-gradient row backward); backward ops sum each element's terms in a
 * fixed order.
 */
public final class PoolOps {

    private PoolOps() {
    }

    // int slots of the windowed ops
    private static final int BATCH = 0;
    private static final int C = 1;
    private static final int H = 2;
    private static final int W = 3;
    private static final int K = 4;
    private static final int STRIDE = 5;
    private static final int PAD = 6;
    private static final int OH = 7;
    private static final int OW = 8;

    private static final String INTS = "int batch, int c, int h, int w, int k, int stride, int pad, int oh, int ow";

    /** A windowed pooling op; {@code imageFirst}: buffer 0 is the input image (forward ops). */
    private abstract static class Window extends Op {
        private final boolean imageFirst;

        Window(String name, String buffers, boolean imageFirst) {
            super("pool", name, INTS + ", " + buffers);
            this.imageFirst = imageFirst;
        }

        static long image(int[] n) {
            return (long) n[BATCH] * n[C] * n[H] * n[W];
        }

        static long pooled(int[] n) {
            return (long) n[BATCH] * n[C] * n[OH] * n[OW];
        }

        @Override
        public long[] lengths(int[] n) {
            long a = image(n);
            long b = pooled(n);
            // forward: x, y (, idx); backward: dy (, idx), dx
            if (imageFirst) {
                return bufferCount() == 3 ? new long[] {a, b, b} : new long[] {a, b};
            }
            return bufferCount() == 3 ? new long[] {b, b, a} : new long[] {b, a};
        }

        /** One work-item per row: an output row (forward ops) or an input-gradient row (backward ops). */
        @Override
        public long work(int[] n) {
            return (long) n[BATCH] * n[C] * (imageFirst ? n[OH] : n[H]);
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            ConvOps.checkWindow(name(), "h", n[H], "k", n[K], n[STRIDE], n[PAD], "oh", n[OH]);
            ConvOps.checkWindow(name(), "w", n[W], "k", n[K], n[STRIDE], n[PAD], "ow", n[OW]);
        }

        Sample pool(String label, Random r, int batch, int c, int h, int w, int k, int stride, int pad) {
            return sample(label, r, new int[] {batch, c, h, w, k, stride, pad, ConvOps.outSize(h, k, stride, pad),
                    ConvOps.outSize(w, k, stride, pad)});
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(pool("3x2x7x5 k2 stride2", r, 3, 2, 7, 5, 2, 2, 0),
                    pool("2x3x7x6 k3 stride1 pad1", r, 2, 3, 7, 6, 3, 1, 1),
                    pool("2x2x9x8 k3 stride2 pad1", r, 2, 2, 9, 8, 3, 2, 1),
                    pool("2x2x8x7 k2 stride3", r, 2, 2, 8, 7, 2, 3, 0),
                    pool("2x3x5x4 k1", r, 2, 3, 5, 4, 1, 1, 0),
                    mostlyPadding(r),
                    pool("4x16x32x32 k2 stride2", r, 4, 16, 32, 32, 2, 2, 0),
                    pool("empty batch", r, 0, 2, 6, 6, 2, 2, 0));
        }

        /** The sample with the most padding the op allows: here windows of padding only. */
        Sample mostlyPadding(Random r) {
            return pool("2x2x3x3 k2 pad2 (windows of padding only)", r, 2, 2, 3, 3, 2, 1, 2);
        }
    }

    /** Max pooling needs an image element in every window (pad <= k/2, as PyTorch requires), so idx is defined. */
    private abstract static class MaxWindow extends Window {
        MaxWindow(String name, String buffers, boolean imageFirst) {
            super(name, buffers, imageFirst);
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (2 * n[PAD] > n[K]) {
                throw new IllegalArgumentException(name() + ": pad must be <= k / 2 (every window must hold an image element), got pad = "
                        + n[PAD] + ", k = " + n[K]);
            }
            if (pooled(n) > 0 && (n[H] < 1 || n[W] < 1)) {
                throw new IllegalArgumentException(name() + ": h and w must be >= 1, got " + n[H] + "x" + n[W]);
            }
        }

        @Override
        Sample mostlyPadding(Random r) {
            return pool("2x2x4x3 k4 pad2", r, 2, 2, 4, 3, 4, 1, 2);
        }
    }

    /**
     * {@code y (N,C,OH,OW) <- max over each k x k window of x (N,C,H,W)}, {@code idx} the flat
     * index {@code row*w + col} within the input plane of the chosen element: the first maximum in
     * row-major window order; a NaN wins (the first NaN of the window), so NaN propagates. Exact.
     * (PyTorch's kernels keep the last NaN of a window instead: the value is the same, only idx can
     * differ, and only in a window with two NaNs.)
     */
    public static final Op MAXPOOL_FORWARD = new MaxWindow("maxpool_forward", "in x, out y, iout idx", true) {
        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int h = n[H];
            int w = n[W];
            int s = n[STRIDE];
            int p = n[PAD];
            int k = n[K];
            int oh = n[OH];
            int ow = n[OW];
            for (int plane = 0; plane < n[BATCH] * n[C]; plane++) {
                int xo = a.off[0] + plane * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int y0 = Math.max(0, oy * s - p);
                        int y1 = Math.min(h, oy * s - p + k);
                        int x0 = Math.max(0, ox * s - p);
                        int x1 = Math.min(w, ox * s - p + k);
                        double m = Double.NEGATIVE_INFINITY;
                        int at = y0 * w + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            for (int ix = x0; ix < x1; ix++) {
                                double v = a.f[0][xo + iy * w + ix];
                                if (v > m || (Double.isNaN(v) && !Double.isNaN(m))) {
                                    m = v;
                                    at = iy * w + ix;
                                }
                            }
                        }
                        int o = (plane * oh + oy) * ow + ox;
                        a.f[1][a.off[1] + o] = m;
                        a.i[2][a.off[2] + o] = at;
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a selection: y is an input element, idx its position");
        }
    };

    /**
     * {@code dx (N,C,H,W) <- sum of dy (N,C,OH,OW) over the outputs whose idx names that element}
     * (dx overwritten): each element sums dy over the at most {@code ceil(k/stride)^2} windows that
     * contain it, in row-major order (the work-item of a dx row reads the idx of the window rows
     * that overlap it). Each idx must name an element of its own window, as
     * {@link #MAXPOOL_FORWARD} writes it.
     */
    public static final Op MAXPOOL_BACKWARD = new MaxWindow("maxpool_backward", "in dy, iin idx, out dx", false) {
        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int h = n[H];
            int w = n[W];
            int oh = n[OH];
            int ow = n[OW];
            int planes = n[BATCH] * n[C];
            java.util.Arrays.fill(a.f[2], a.off[2], a.off[2] + planes * h * w, 0.0);
            for (int plane = 0; plane < planes; plane++) {
                for (int o = 0; o < oh * ow; o++) {
                    int at = a.i[1][a.off[1] + plane * oh * ow + o];
                    a.f[2][a.off[2] + plane * h * w + at] += a.f[0][a.off[0] + plane * oh * ow + o];
                }
            }
        }

        /** idx: for each output, a random image element inside its window. */
        @Override
        public int[] intInput(int b, int length, int[] n, Random r) {
            int[] idx = new int[length];
            int oh = n[OH];
            int ow = n[OW];
            for (int o = 0; o < length; o++) {
                int oy = (o / ow) % oh;
                int ox = o % ow;
                int y0 = Math.max(0, oy * n[STRIDE] - n[PAD]);
                int y1 = Math.min(n[H], oy * n[STRIDE] - n[PAD] + n[K]);
                int x0 = Math.max(0, ox * n[STRIDE] - n[PAD]);
                int x1 = Math.min(n[W], ox * n[STRIDE] - n[PAD] + n[K]);
                idx[o] = (y0 + r.nextInt(y1 - y0)) * n[W] + x0 + r.nextInt(x1 - x0);
            }
            return idx;
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> square(ConvOps.ceilDiv(n[K], n[STRIDE])),
                    "each element sums dy over at most ceil(k/stride)^2 windows");
        }
    };

    /** {@code y (N,C,OH,OW) <- mean of each k x k window of x}, padding counted as 0 (divides by k*k). */
    public static final Op AVGPOOL_FORWARD = new Window("avgpool_forward", "in x, out y", true) {
        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int h = n[H];
            int w = n[W];
            int s = n[STRIDE];
            int p = n[PAD];
            int k = n[K];
            int oh = n[OH];
            int ow = n[OW];
            for (int plane = 0; plane < n[BATCH] * n[C]; plane++) {
                int xo = a.off[0] + plane * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double sum = 0;
                        for (int iy = Math.max(0, oy * s - p); iy < Math.min(h, oy * s - p + k); iy++) {
                            for (int ix = Math.max(0, ox * s - p); ix < Math.min(w, ox * s - p + k); ix++) {
                                sum += a.f[0][xo + iy * w + ix];
                            }
                        }
                        a.f[1][a.off[1] + (plane * oh + oy) * ow + ox] = sum / ((double) k * k);
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> (long) n[K] * n[K] + DIVISION, "a sum of k*k window elements, then a division");
        }
    };

    /** {@code dx (N,C,H,W) <- sum of dy / (k*k) over the windows containing each element}: the adjoint of avgpool_forward. */
    public static final Op AVGPOOL_BACKWARD = new Window("avgpool_backward", "in dy, out dx", false) {
        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int h = n[H];
            int w = n[W];
            int s = n[STRIDE];
            int p = n[PAD];
            int k = n[K];
            int oh = n[OH];
            int ow = n[OW];
            int planes = n[BATCH] * n[C];
            java.util.Arrays.fill(a.f[1], a.off[1], a.off[1] + planes * h * w, 0.0);
            for (int plane = 0; plane < planes; plane++) {
                int xo = a.off[1] + plane * h * w;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double g = a.f[0][a.off[0] + (plane * oh + oy) * ow + ox] / ((double) k * k);
                        for (int iy = Math.max(0, oy * s - p); iy < Math.min(h, oy * s - p + k); iy++) {
                            for (int ix = Math.max(0, ox * s - p); ix < Math.min(w, ox * s - p + k); ix++) {
                                a.f[1][xo + iy * w + ix] += g;
                            }
                        }
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> square(ConvOps.ceilDiv(n[K], n[STRIDE])) + DIVISION,
                    "each element sums dy over at most ceil(k/stride)^2 windows, then a division");
        }
    };

    /** The global ops: {@code int batch, int c, int s}; the mean over no value is refused. */
    private abstract static class Global extends Op {
        Global(String name, String buffers) {
            super("pool", name, "int batch, int c, int s, " + buffers);
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[2] < 1) {
                throw new IllegalArgumentException(name() + ": s must be >= 1 (a mean over no value), got " + n[2]);
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("3x5x7", r, new int[] {3, 5, 7}), sample("2x3x1", r, new int[] {2, 3, 1}),
                    sample("16x64x49", r, new int[] {16, 64, 49}), sample("empty batch", r, new int[] {0, 4, 9}));
        }
    }

    /** {@code y (N,C) <- mean over the S = H*W values of each plane of x (N,C,S)}. */
    public static final Op GLOBAL_AVGPOOL_FORWARD = new Global("global_avgpool_forward", "in x, out y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {(long) n[0] * n[1] * n[2], (long) n[0] * n[1]};
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * n[1];
        }

        @Override
        public void reference(RefArgs a) {
            int s = a.n[2];
            for (int plane = 0; plane < a.n[0] * a.n[1]; plane++) {
                double sum = 0;
                for (int k = 0; k < s; k++) {
                    sum += a.f[0][a.off[0] + plane * s + k];
                }
                a.f[1][a.off[1] + plane] = sum / s;
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> n[2] + DIVISION, "a sum of the S values of a plane, then a division");
        }
    };

    /** {@code dx (N,C,S) <- dy (N,C) / S} broadcast over each plane. */
    public static final Op GLOBAL_AVGPOOL_BACKWARD = new Global("global_avgpool_backward", "in dy, out dx") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {(long) n[0] * n[1], (long) n[0] * n[1] * n[2]};
        }

        @Override
        public long work(int[] n) {
            return TensorOps.chunks((long) n[0] * n[1] * n[2]);
        }

        @Override
        public void reference(RefArgs a) {
            int s = a.n[2];
            for (int plane = 0; plane < a.n[0] * a.n[1]; plane++) {
                double g = a.f[0][a.off[0] + plane] / s;
                for (int k = 0; k < s; k++) {
                    a.f[1][a.off[1] + plane * s + k] = g;
                }
            }
        }
    };

    /**
     * Terms a final division adds to a Sum bound: OpenCL C allows a float division 2.5 ulp (5 u)
     * without {@code -cl-fp32-correctly-rounded-divide-sqrt}, which 2 more terms of
     * {@code 2 gamma(K + 1)} cover.
     */
    private static final int DIVISION = 2;

    private static long square(long v) {
        return v * v;
    }

    public static final List<Op> ALL = List.of(MAXPOOL_FORWARD, MAXPOOL_BACKWARD, AVGPOOL_FORWARD, AVGPOOL_BACKWARD,
            GLOBAL_AVGPOOL_FORWARD, GLOBAL_AVGPOOL_BACKWARD);
}
