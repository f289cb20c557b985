package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import java.util.List;
import java.util.Random;

/**
 * Tensor arithmetic that layers share ({@code kernels/tensor.kernel}): elementwise sums for
 * residual connections and gradient accumulation where a value fans out, and the per-channel bias
 * of NCHW tensors.
 */
public final class TensorOps {

    private TensorOps() {
    }

    /**
     * Elements per work-item of the chunked kernels ({@code TENSOR_CHUNK} of
     * {@code kernels/tensor.kernel}, likewise {@code BN_CHUNK}, {@code POOL_CHUNK}): each item
     * splits its first index once and copies contiguous runs, which PoCL runs several times faster
     * than one item per element with a division chain each.
     */
    public static final int CHUNK = 32;

    /** Work-items for {@code elements} taken {@link #CHUNK} to an item. */
    static long chunks(long elements) {
        return (elements + CHUNK - 1) / CHUNK;
    }

    /** {@code y (n) <- a (n) + b (n)}; y may be a or b. */
    public static final Op ADD = new Op("tensor", "add", "int n, in a, in b, out y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0], n[0]};
        }

        @Override
        public long work(int[] n) {
            return n[0];
        }

        @Override
        public void reference(RefArgs a) {
            for (int k = 0; k < a.n[0]; k++) {
                a.f[2][a.off[2] + k] = a.f[0][a.off[0] + k] + a.f[1][a.off[1] + k];
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("n=1", r, new int[] {1}), sample("n=1037", r, new int[] {1037}),
                    sample("n=0", r, new int[] {0}));
        }
    };

    /** {@code y (N,C,S) <- x (N,C,S) + bias (C)} broadcast over N and S (the spatial size); y may be x. */
    public static final Op CHANNEL_BIAS = new Op("tensor", "channel_bias", "int batch, int c, int s, in x, in bias, out y") {
        @Override
        public long[] lengths(int[] n) {
            long len = (long) n[0] * n[1] * n[2];
            return new long[] {len, n[1], len};
        }

        @Override
        public long work(int[] n) {
            return chunks((long) n[0] * n[1] * n[2]);
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            for (int i = 0; i < batch; i++) {
                for (int ch = 0; ch < c; ch++) {
                    double bias = a.f[1][a.off[1] + ch];
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        a.f[2][a.off[2] + base + k] = a.f[0][a.off[0] + base + k] + bias;
                    }
                }
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}), sample("7x16x49", r, new int[] {7, 16, 49}),
                    sample("empty", r, new int[] {0, 4, 9}));
        }
    };

    /**
     * {@code db (C) <- sum over N and S of dy (N,C,S)}: the bias gradient of a convolution. One
     * work-item per channel sums in a fixed order (batch-major), so results are reproducible.
     */
    public static final Op CHANNEL_BIAS_GRAD = new Op("tensor", "channel_bias_grad", "int batch, int c, int s, in dy, out db") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {(long) n[0] * n[1] * n[2], n[1]};
        }

        @Override
        public long work(int[] n) {
            return n[1];
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int c = a.n[1];
            int s = a.n[2];
            for (int ch = 0; ch < c; ch++) {
                double sum = 0;
                for (int i = 0; i < batch; i++) {
                    int base = (i * c + ch) * s;
                    for (int k = 0; k < s; k++) {
                        sum += a.f[0][a.off[0] + base + k];
                    }
                }
                a.f[1][a.off[1] + ch] = sum;
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> (long) n[0] * n[2], "a sum over N x S values per channel");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("2x3x5", r, new int[] {2, 3, 5}), sample("33x8x196", r, new int[] {33, 8, 196}),
                    sample("empty batch", r, new int[] {0, 4, 9}));
        }
    };

    /**
     * {@code y (B,A,S) <- x (A,B,S)} with the first two dimensions swapped: a convolution's
     * product comes out as (OC, N, S) and its layer wants (N, OC, S), and back for the gradient.
     */
    public static final Op SWAP01 = new Op("tensor", "swap01", "int a, int b, int s, in x, out y") {
        @Override
        public long[] lengths(int[] n) {
            long len = (long) n[0] * n[1] * n[2];
            return new long[] {len, len};
        }

        @Override
        public long work(int[] n) {
            return chunks((long) n[0] * n[1] * n[2]);
        }

        @Override
        public void reference(RefArgs a) {
            int da = a.n[0];
            int db = a.n[1];
            int s = a.n[2];
            for (int i = 0; i < da; i++) {
                for (int j = 0; j < db; j++) {
                    for (int k = 0; k < s; k++) {
                        a.f[1][a.off[1] + (j * da + i) * s + k] = a.f[0][a.off[0] + (i * db + j) * s + k];
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("3x5x7", r, new int[] {3, 5, 7}), sample("32x9x196", r, new int[] {32, 9, 196}),
                    sample("1x4x1", r, new int[] {1, 4, 1}), sample("empty", r, new int[] {0, 3, 2}));
        }
    };

    public static final List<Op> ALL = List.of(ADD, CHANNEL_BIAS, CHANNEL_BIAS_GRAD, SWAP01);
}
