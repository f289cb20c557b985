package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import java.util.List;
import java.util.Random;

/**
 * Convolution as im2col plus one matrix product ({@code kernels/conv.kernel}). Tensors are NCHW.
 * The column matrix is {@code col (C*kh*kw, N*oh*ow)}: row {@code (ci*kh + i)*kw + j}, column
 * {@code n*(oh*ow) + oy*ow + ox}, so the forward convolution of the whole batch is one plain gemm
 * {@code y' (OC, N*oh*ow) = W (OC, C*kh*kw) x col}, and the input gradient is
 * {@code col2im(W^T x dy')}. Output sizes are {@code oh = (h + 2 pad - kh) / stride + 1} and
 * {@code ow = (w + 2 pad - kw) / stride + 1}; padding reads as zero.
 */
public final class ConvOps {

    private ConvOps() {
    }

    // int slots of both ops
    private static final int BATCH = 0;
    private static final int C = 1;
    private static final int H = 2;
    private static final int W = 3;
    private static final int KH = 4;
    private static final int KW = 5;
    private static final int STRIDE = 6;
    private static final int PAD = 7;
    private static final int OH = 8;
    private static final int OW = 9;

    private static final String INTS = "int batch, int c, int h, int w, int kh, int kw, int stride, int pad, int oh, int ow";

    /** The output size of a sliding window over one dimension: {@code (size + 2 pad - k) / stride + 1}. Shared with {@link PoolOps}. */
    static int outSize(int size, int k, int stride, int pad) {
        return (size + 2 * pad - k) / stride + 1;
    }

    /**
     * Checks one spatial dimension of a sliding window: kernel and stride at least 1, the kernel
     * no larger than the padded input, and the given output size equal to
     * {@code (size + 2 pad - k) / stride + 1}. Shared with {@link PoolOps}.
     */
    static void checkWindow(String op, String sizeName, int size, String kName, int k, int stride, int pad,
            String outName, int out) {
        if (k < 1) {
            throw new IllegalArgumentException(op + ": " + kName + " must be >= 1, got " + k);
        }
        if (stride < 1) {
            throw new IllegalArgumentException(op + ": stride must be >= 1, got " + stride);
        }
        if (pad < 0) {
            throw new IllegalArgumentException(op + ": pad must be >= 0, got " + pad);
        }
        long padded = (long) size + 2L * pad;
        if (padded < k) {
            throw new IllegalArgumentException(op + ": " + kName + " = " + k + " is larger than the padded input "
                    + sizeName + " + 2 pad = " + padded);
        }
        long expect = (padded - k) / stride + 1;
        if (out != expect) {
            throw new IllegalArgumentException(op + ": " + outName + " must be (" + sizeName + " + 2 pad - " + kName
                    + ") / stride + 1 = " + expect + ", got " + out);
        }
    }

    /** The common shape of im2col and col2im; subclasses name which buffer is which. */
    private abstract static class Window extends Op {
        private final boolean imageFirst;

        Window(String name, String buffers, boolean imageFirst) {
            super("conv", name, INTS + ", " + buffers);
            this.imageFirst = imageFirst;
        }

        static long image(int[] n) {
            return (long) n[BATCH] * n[C] * n[H] * n[W];
        }

        static long cols(int[] n) {
            return (long) n[C] * n[KH] * n[KW] * n[BATCH] * n[OH] * n[OW];
        }

        @Override
        public long[] lengths(int[] n) {
            return imageFirst ? new long[] {image(n), cols(n)} : new long[] {cols(n), image(n)};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            checkWindow(name(), "h", n[H], "kh", n[KH], n[STRIDE], n[PAD], "oh", n[OH]);
            checkWindow(name(), "w", n[W], "kw", n[KW], n[STRIDE], n[PAD], "ow", n[OW]);
        }

        /** A sample from {@code N, C, H, W, kh, kw, stride, pad}; the output size follows. */
        Sample conv(String label, Random r, int batch, int c, int h, int w, int kh, int kw, int stride, int pad) {
            return sample(label, r, new int[] {batch, c, h, w, kh, kw, stride, pad, outSize(h, kh, stride, pad),
                    outSize(w, kw, stride, pad)});
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(conv("3x2x7x5 k3 pad1", r, 3, 2, 7, 5, 3, 3, 1, 1),
                    conv("2x3x9x8 k3 stride2", r, 2, 3, 9, 8, 3, 3, 2, 0),
                    conv("2x2x7x6 k5 pad2", r, 2, 2, 7, 6, 5, 5, 1, 2),
                    conv("2x4x5x3 k1", r, 2, 4, 5, 3, 1, 1, 1, 0),
                    conv("2x3x5x4 k7x6 pad1 (kernel = padded image)", r, 2, 3, 5, 4, 7, 6, 1, 1),
                    conv("2x2x11x10 k2x4 stride3 pad1", r, 2, 2, 11, 10, 2, 4, 3, 1),
                    conv("4x8x16x16 k3 pad1", r, 4, 8, 16, 16, 3, 3, 1, 1),
                    conv("empty batch", r, 0, 2, 5, 5, 3, 3, 1, 1));
        }
    }

    /**
     * {@code col (C*kh*kw, N*oh*ow) <- x (N,C,H,W)}:
     * {@code col[((ci*kh + i)*kw + j)*(N*oh*ow) + n*(oh*ow) + oy*ow + ox] = x[n][ci][oy*stride - pad + i][ox*stride - pad + j]},
     * 0 outside the image. A copy: exact.
     */
    public static final Op IM2COL = new Window("im2col", "in x, out col", true) {
        /** One work-item per (ci, i, n, oy): the kw output rows that read one input row. */
        @Override
        public long work(int[] n) {
            return (long) n[C] * n[KH] * n[BATCH] * n[OH];
        }

        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int batch = n[BATCH];
            int c = n[C];
            int h = n[H];
            int w = n[W];
            int kh = n[KH];
            int kw = n[KW];
            int oh = n[OH];
            int ow = n[OW];
            long cols = (long) batch * oh * ow;
            double[] x = a.f[0];
            double[] col = a.f[1];
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        long row = ((long) (ci * kh + i) * kw + j) * cols;
                        for (int b = 0; b < batch; b++) {
                            for (int oy = 0; oy < oh; oy++) {
                                for (int ox = 0; ox < ow; ox++) {
                                    int iy = oy * n[STRIDE] - n[PAD] + i;
                                    int ix = ox * n[STRIDE] - n[PAD] + j;
                                    boolean in = iy >= 0 && iy < h && ix >= 0 && ix < w;
                                    col[(int) (a.off[1] + row + ((long) b * oh + oy) * ow + ox)] =
                                            in ? x[a.off[0] + ((b * c + ci) * h + iy) * w + ix] : 0;
                                }
                            }
                        }
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy: every column entry is an input element or 0");
        }
    };

    /**
     * {@code x (N,C,H,W) <- col2im(col (C*kh*kw, N*oh*ow))}, the adjoint of {@link #IM2COL}: each
     * pixel is the sum of the column entries im2col would have read from it (x is overwritten), its
     * at most {@code ceil(kh/stride) ceil(kw/stride)} entries added in a fixed order ((i, j)
     * ascending) by the work-item of its row.
     */
    public static final Op COL2IM = new Window("col2im", "in col, out x", false) {
        /** One work-item per input row (n, ci, iy). */
        @Override
        public long work(int[] n) {
            return (long) n[BATCH] * n[C] * n[H];
        }

        @Override
        public void reference(RefArgs a) {
            int[] n = a.n;
            int batch = n[BATCH];
            int c = n[C];
            int h = n[H];
            int w = n[W];
            int kh = n[KH];
            int kw = n[KW];
            int oh = n[OH];
            int ow = n[OW];
            long cols = (long) batch * oh * ow;
            double[] col = a.f[0];
            double[] x = a.f[1];
            java.util.Arrays.fill(x, a.off[1], (int) (a.off[1] + image(n)), 0.0);
            for (int ci = 0; ci < c; ci++) {
                for (int i = 0; i < kh; i++) {
                    for (int j = 0; j < kw; j++) {
                        long row = ((long) (ci * kh + i) * kw + j) * cols;
                        for (int b = 0; b < batch; b++) {
                            for (int oy = 0; oy < oh; oy++) {
                                for (int ox = 0; ox < ow; ox++) {
                                    int iy = oy * n[STRIDE] - n[PAD] + i;
                                    int ix = ox * n[STRIDE] - n[PAD] + j;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        x[a.off[1] + ((b * c + ci) * h + iy) * w + ix] +=
                                                col[(int) (a.off[0] + row + ((long) b * oh + oy) * ow + ox)];
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> ceilDiv(n[KH], n[STRIDE]) * ceilDiv(n[KW], n[STRIDE]),
                    "each pixel sums at most ceil(kh/stride) ceil(kw/stride) column entries");
        }
    };

    static long ceilDiv(int a, int b) {
        return (a + (long) b - 1) / b;
    }

    public static final List<Op> ALL = List.of(IM2COL, COL2IM);
}
