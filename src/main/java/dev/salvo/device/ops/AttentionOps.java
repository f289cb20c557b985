package dev.salvo.device.ops;

import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.OpTolerance;
import java.util.List;
import java.util.Random;

/**
 * The GPT's embedding and attention ops ({@code kernels/attention.kernel}): the token embedding
 * (a gather forward, a deterministic scatter-add backward), the head split and merge around the
 * batched attention matmuls, and the causal softmax over the (T,T) score matrices with its
 * backward.
 *
 * <p>Token ids travel as floats holding exact integers (the network's input is a float buffer);
 * an id that is NaN, not an integer or outside [0, vocab) is bad: the forward writes a row of NaN
 * (PyTorch raises; a NaN stops training through the health check), the backward skips it. Ids are
 * compared as float32, so {@code vocab} may be at most 2^24.
 *
 * <p>Launch: the embedding forward and the head reshapes take one work-item per
 * {@link TensorOps#CHUNK} consecutive output elements, the embedding backward one work-item per
 * element of dweight (walking the rows in order: no atomics), the softmax ops one work-group of
 * {@link #WG} work-items per score row (strided loads, then fixed trees in local memory).
 */
public final class AttentionOps {

    private AttentionOps() {
    }

    /** Work-items per score row of the softmax ops: {@code ATT_WG} of {@code kernels/attention.kernel}. */
    public static final int WG = 128;

    /** Largest vocabulary: every id in [0, vocab) must be an exact float32. */
    public static final int MAX_VOCAB = 1 << 24;

    private abstract static class Attention extends Op {
        Attention(String name, String signature) {
            super("attention", name, signature);
        }

        static double[] uniform(int length, Random r, double scale) {
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = scale * (2 * r.nextDouble() - 1);
            }
            return x;
        }
    }

    // ---- embedding ---------------------------------------------------------------------------

    /** The row of {@code weight} that float id {@code f} names, or -1 for a bad id (NaN, fractional, outside [0, vocab)). */
    public static int tokenRow(double f, int vocab) {
        return f >= 0 && f < vocab && f == Math.floor(f) ? (int) f : -1;
    }

    /** Base of the embedding ops: ints {@code rows, dim, vocab} first, ids buffer 0. */
    private abstract static class Embedding extends Attention {
        Embedding(String name, String signature) {
            super(name, signature);
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[2] > MAX_VOCAB) {
                throw new IllegalArgumentException(name() + ": vocab must be <= 2^24 (ids are float32), got " + n[2]);
            }
        }

        /**
         * Ids: mostly valid ones in [0, vocab), repeated wherever rows > vocab; one in eight is bad
         * (-1, vocab, a fraction, 1e9). Other buffers uniform in [-1, 1).
         */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            if (b != 0) {
                return super.input(b, length, n, r);
            }
            int vocab = n[2];
            double[] bad = {-1, vocab, r.nextInt(Math.max(1, vocab)) + 0.5, 1e9};
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = vocab == 0 || r.nextInt(8) == 0 ? bad[r.nextInt(bad.length)] : r.nextInt(vocab);
            }
            return x;
        }
    }

    /**
     * {@code y (rows, dim) <- weight (vocab, dim)[ids[r], :]}; a bad id gives a row of NaN. The
     * samples cover vocab 1, dim 1, no rows and ids repeated.
     */
    public static final Op EMBEDDING_FORWARD = new Embedding("embedding_forward",
            "int rows, int dim, int vocab, in ids, in weight, out y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], (long) n[2] * n[1], (long) n[0] * n[1]};
        }

        @Override
        public long work(int[] n) {
            return TensorOps.chunks((long) n[0] * n[1]);
        }

        @Override
        public void reference(RefArgs a) {
            int rows = a.n[0];
            int dim = a.n[1];
            for (int r = 0; r < rows; r++) {
                int k = tokenRow(a.f[0][a.off[0] + r], a.n[2]);
                for (int c = 0; c < dim; c++) {
                    a.f[2][a.off[2] + r * dim + c] = k < 0 ? Double.NaN : a.f[1][a.off[1] + k * dim + c];
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy (or NaN for a bad id)");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("37 of 11x13", r, new int[] {37, 13, 11}), sample("64 of 65x48", r, new int[] {64, 48, 65}),
                    sample("vocab 1", r, new int[] {9, 5, 1}), sample("dim 1", r, new int[] {7, 1, 3}),
                    sample("no rows", r, new int[] {0, 4, 5}));
        }
    };

    /**
     * {@code dweight (vocab, dim) <- (accumulate != 0 ? dweight : 0) + sum over r of dy[r, :]} into
     * row {@code ids[r]}, bad ids skipped, the rows added in increasing r into each element (one
     * float32 chain per element, no atomics): the CPU and the kernels give the same bits. With
     * accumulate = 0 every element is written (rows no id names become 0).
     *
     * <p>Tolerance: each element is a float32 sum of at most {@code rows} terms (and the old value
     * with accumulate), so the classical bound {@code gamma(K) sum|terms|} applies: a {@link
     * OpTolerance.Sum} of {@code rows + accumulate} terms.
     */
    public static final Op EMBEDDING_BACKWARD = new Embedding("embedding_backward",
            "int rows, int dim, int vocab, int accumulate, in ids, in dy, inout dweight") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], (long) n[0] * n[1], (long) n[2] * n[1]};
        }

        @Override
        public long work(int[] n) {
            return n[1]; // one work-item per column: it walks the rows in order (O(vocab + rows), not O(vocab * rows))
        }

        @Override
        public void reference(RefArgs a) {
            int rows = a.n[0];
            int dim = a.n[1];
            int vocab = a.n[2];
            double[] w = a.f[2];
            int wo = a.off[2];
            if (a.n[3] == 0) {
                java.util.Arrays.fill(w, wo, wo + vocab * dim, 0.0);
            }
            for (int r = 0; r < rows; r++) {
                int k = tokenRow(a.f[0][a.off[0] + r], vocab);
                if (k < 0) {
                    continue;
                }
                for (int c = 0; c < dim; c++) {
                    w[wo + k * dim + c] += a.f[1][a.off[1] + r * dim + c];
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Sum(n -> (long) n[0] + (n[3] != 0 ? 1 : 0),
                    "each element a float32 chain of at most rows (+1 with accumulate) additions");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("37 into 11x13", r, new int[] {37, 13, 11, 0}),
                    sample("37 into 11x13, accumulate", r, new int[] {37, 13, 11, 1}),
                    sample("300 into 5x24 (many repeats)", r, new int[] {300, 24, 5, 0}),
                    sample("64 into 65x48, accumulate", r, new int[] {64, 48, 65, 1}),
                    sample("vocab 1", r, new int[] {9, 5, 1, 0}), sample("dim 1", r, new int[] {7, 1, 3, 1}),
                    sample("no rows (zeroes dweight)", r, new int[] {0, 4, 5, 0}),
                    sample("no rows, accumulate (keeps dweight)", r, new int[] {0, 4, 5, 1}));
        }
    };

    // ---- heads --------------------------------------------------------------------------------

    /** Base of the head reshapes: ints {@code batch, t, parts, heads, hd}; a copy. */
    private abstract static class Heads extends Attention {
        Heads(String name, String signature) {
            super(name, signature);
        }

        static long elements(int[] n) {
            return (long) n[0] * n[1] * n[2] * n[3] * n[4];
        }

        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), elements(n)};
        }

        @Override
        public long work(int[] n) {
            return TensorOps.chunks(elements(n));
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        /** Offset of element d of (p, b, h, t) in the split layout (parts, B, H, T, hd). */
        static int split(int[] n, int p, int b, int h, int t, int d) {
            return (((p * n[0] + b) * n[3] + h) * n[1] + t) * n[4] + d;
        }

        /** Offset of element d of (p, b, h, t) in the merged layout (B, T, parts, H, hd). */
        static int merged(int[] n, int p, int b, int h, int t, int d) {
            return (((b * n[1] + t) * n[2] + p) * n[3] + h) * n[4] + d;
        }

        /** Copies between the layouts: from merged to split ({@code toSplit}) or back. */
        static void copy(RefArgs a, boolean toSplit) {
            int[] n = a.n;
            for (int p = 0; p < n[2]; p++) {
                for (int b = 0; b < n[0]; b++) {
                    for (int h = 0; h < n[3]; h++) {
                        for (int t = 0; t < n[1]; t++) {
                            for (int d = 0; d < n[4]; d++) {
                                int s = split(n, p, b, h, t, d);
                                int m = merged(n, p, b, h, t, d);
                                if (toSplit) {
                                    a.f[1][a.off[1] + s] = a.f[0][a.off[0] + m];
                                } else {
                                    a.f[1][a.off[1] + m] = a.f[0][a.off[0] + s];
                                }
                            }
                        }
                    }
                }
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("qkv 2x5x3x4x3", r, new int[] {2, 5, 3, 4, 3}),
                    sample("one part 3x7x1x2x5", r, new int[] {3, 7, 1, 2, 5}),
                    sample("qkv 2x33x3x6x40", r, new int[] {2, 33, 3, 6, 40}),
                    sample("ones 1x1x3x1x1", r, new int[] {1, 1, 3, 1, 1}),
                    sample("no batch", r, new int[] {0, 4, 3, 2, 2}));
        }
    }

    /**
     * {@code y (parts, B, H, T, hd) <- x (B, T, parts, H, hd)}: a qkv projection (parts = 3) into
     * q, k, v with the heads in front, or the heads of one tensor (parts = 1).
     */
    public static final Op HEADS_SPLIT = new Heads("heads_split", "int batch, int t, int parts, int heads, int hd, in x, out y") {
        @Override
        public void reference(RefArgs a) {
            copy(a, true);
        }
    };

    /** {@code x (B, T, parts, H, hd) <- y (parts, B, H, T, hd)}: the exact inverse of {@link #HEADS_SPLIT}. */
    public static final Op HEADS_MERGE = new Heads("heads_merge", "int batch, int t, int parts, int heads, int hd, in y, out x") {
        @Override
        public void reference(RefArgs a) {
            copy(a, false);
        }
    };

    // ---- causal softmax -------------------------------------------------------------------------

    /** Base of the softmax ops over (rows, T, T): ints {@code rows, t}, real {@code scale}; a work-group per score row. */
    private abstract static class CausalRows extends Attention {
        CausalRows(String name, String signature) {
            super(name, signature);
        }

        static long elements(int[] n) {
            return (long) n[0] * n[1] * n[1];
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * n[1] * WG;
        }

        @Override
        public long[] local(int[] n, int wg) {
            return new long[] {WG};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (!Double.isFinite(r[0])) {
                throw new IllegalArgumentException(name() + ": scale must be finite, got " + r[0]);
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("6x17", r, new int[] {6, 17}, 0.25), sample("t=1", r, new int[] {5, 1}, 0.125),
                    sample("t=130 (past one work-group)", r, new int[] {3, 130}, 1 / Math.sqrt(24)),
                    sample("t=1024", r, new int[] {1, 1024}, 0.25), sample("t=64", r, new int[] {8, 64}, 1.0 / 8),
                    sample("no rows", r, new int[] {0, 9}, 1.0), sample("t=0", r, new int[] {4, 0}, 1.0));
        }
    }

    /**
     * The float64 causal softmax of score row {@code s[so .. so + t)} at position i into
     * {@code p[po ..]}: {@code p_j = exp(scale s_j - m) / sum_{k <= i} exp(scale s_k - m)} for
     * j &lt;= i with m the maximum of {@code scale s_k}, k &lt;= i; the entries j &gt; i are never
     * read. A NaN in an unmasked score (or an infinity, through inf - inf) makes the whole row
     * NaN, the masked entries too, as PyTorch's softmax of a masked_fill(-inf) row gives it;
     * otherwise the masked entries are 0.
     */
    static void causalSoftmaxRow(double[] s, int so, double[] p, int po, int t, int i, double scale) {
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j <= i; j++) {
            m = Math.max(m, scale * s[so + j]); // Math.max propagates NaN
        }
        double sum = 0;
        for (int j = 0; j <= i; j++) {
            sum += Math.exp(scale * s[so + j] - m);
        }
        for (int j = 0; j <= i; j++) {
            p[po + j] = Math.exp(scale * s[so + j] - m) / sum;
        }
        for (int j = i + 1; j < t; j++) {
            p[po + j] = 0.0 / sum; // NaN when the row is
        }
    }

    /**
     * {@code p (rows, T, T) <- causal softmax of scale * s} per row: for score matrix r, row i,
     * {@code p[r,i,j] = exp(scale s[r,i,j] - m) / sum_{k <= i} exp(scale s[r,i,k] - m)} for
     * j &lt;= i, 0 for j &gt; i (masked scores are never read: NaN or infinity there is ignored).
     * NaN in an unmasked score makes the whole row NaN (PyTorch).
     *
     * <p>Tolerance: the default elementwise bound, as the row softmax of {@link RowsOps}. The
     * kernel's sum has only positive terms, each item adding {@code L = ceil(T / WG)} of them
     * before a 7-level tree, so its relative error is at most {@code gamma(L + 7)}; {@code exp}
     * adds up to 3 ulp (OpenCL), the product {@code scale s}, the float32 scale and the
     * subtraction of the maximum about {@code 20 u} on logits within [-4, 4] (the samples: {@code |s| < 16},
     * {@code scale <= 0.25}), the division one more: about {@code 42 u = 2.5e-6} relative for T = 1024
     * (L = 8). Since {@code p <= 1} that is within {@code 1e-5 + 1.3e-6 p} for every element with a
     * fourfold margin. The absolute part makes the bound loose for the small probabilities of a
     * long row (about 1e-3 at T = 1024), so {@code AttentionOpsTest} also holds a 1024-long row to
     * a relative bound of 1e-5.
     */
    public static final Op CAUSAL_SOFTMAX = new CausalRows("causal_softmax", "int rows, int t, real scale, in s, out p") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), elements(n)};
        }

        @Override
        public void reference(RefArgs a) {
            int t = a.n[1];
            for (int g = 0; g < a.n[0] * t; g++) {
                causalSoftmaxRow(a.f[0], a.off[0] + g * t, a.f[1], a.off[1] + g * t, t, g % t, a.r[0]);
            }
        }

        /** Scores in [-16, 16): with the samples' scales logits within [-4, 4]. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return uniform(length, r, 16);
        }

        @Override
        public OpTolerance tolerance() {
            return OpTolerance.ELEMENTWISE;
        }
    };

    /**
     * {@code ds (rows, T, T) <- scale p (dp - sum_{k <= i} p_k dp_k)} per row i for j &lt;= i,
     * 0 for j &gt; i (PyTorch's softmax backward followed by masked_fill's, which zeroes the
     * masked gradient); p and dp above the diagonal are never read.
     *
     * <p>Tolerance: the default elementwise bound. The dot product is a sum of mixed signs, its
     * error at most {@code gamma(L + 8) sum |p_k dp_k| <= gamma(L + 8) max |dp|} since a softmax
     * row sums to 1 ({@code L = ceil(T / WG) <= 8} for the samples, {@code |dp| < 1}: under 1e-6); each ds_j adds
     * three roundings on {@code |scale p_j (dp_j - dot)|}; with {@code |scale| <= 1} every error is far
     * below {@code 1e-5 + 1.3e-6 |ref|}.
     */
    public static final Op CAUSAL_SOFTMAX_BACKWARD = new CausalRows("causal_softmax_backward",
            "int rows, int t, real scale, in p, in dp, out ds") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), elements(n), elements(n)};
        }

        @Override
        public void reference(RefArgs a) {
            int t = a.n[1];
            double scale = a.r[0];
            for (int g = 0; g < a.n[0] * t; g++) {
                int i = g % t;
                int po = a.off[0] + g * t;
                int go = a.off[1] + g * t;
                int so = a.off[2] + g * t;
                double dot = 0;
                for (int k = 0; k <= i; k++) {
                    dot += a.f[0][po + k] * a.f[1][go + k];
                }
                for (int j = 0; j < t; j++) {
                    a.f[2][so + j] = j <= i ? scale * a.f[0][po + j] * (a.f[1][go + j] - dot) : 0.0;
                }
            }
        }

        /**
         * p: causal softmax rows of logits in [-4, 4) (what the forward leaves), with random values
         * in [-1, 1) above the diagonal, which must be ignored; dp uniform in [-1, 1).
         */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            if (b != 0) {
                return super.input(b, length, n, r);
            }
            int t = n[1];
            double[] logits = uniform(length, r, 4);
            double[] p = uniform(length, r, 1);
            double[] row = new double[t];
            for (int g = 0; g < n[0] * t; g++) {
                causalSoftmaxRow(logits, g * t, row, 0, t, g % t, 1.0);
                System.arraycopy(row, 0, p, g * t, g % t + 1);
            }
            return p;
        }

        @Override
        public OpTolerance tolerance() {
            return OpTolerance.ELEMENTWISE;
        }
    };

    public static final List<Op> ALL = List.of(EMBEDDING_FORWARD, EMBEDDING_BACKWARD, HEADS_SPLIT, HEADS_MERGE,
            CAUSAL_SOFTMAX, CAUSAL_SOFTMAX_BACKWARD);

    // ---- calls ------------------------------------------------------------------------------

    /** {@code y (rows, dim) <- weight (vocab, dim)[ids[r]]} ({@link #EMBEDDING_FORWARD}). */
    public static OpCall embeddingForward(int rows, int dim, int vocab, DeviceBuffer ids, DeviceBuffer weight, DeviceBuffer y) {
        return EMBEDDING_FORWARD.call(new DeviceBuffer[] {ids, weight, y}, new int[] {rows, dim, vocab});
    }

    /** {@code dweight (vocab, dim) [+]= scatter of dy (rows, dim) by ids} ({@link #EMBEDDING_BACKWARD}). */
    public static OpCall embeddingBackward(int rows, int dim, int vocab, boolean accumulate, DeviceBuffer ids, DeviceBuffer dy,
                                           DeviceBuffer dweight) {
        return EMBEDDING_BACKWARD.call(new DeviceBuffer[] {ids, dy, dweight}, new int[] {rows, dim, vocab, accumulate ? 1 : 0});
    }

    /** {@code y (parts, B, H, T, hd) <- x (B, T, parts, H, hd)} ({@link #HEADS_SPLIT}). */
    public static OpCall headsSplit(int batch, int t, int parts, int heads, int hd, DeviceBuffer x, DeviceBuffer y) {
        return HEADS_SPLIT.call(new DeviceBuffer[] {x, y}, new int[] {batch, t, parts, heads, hd});
    }

    /** {@code x (B, T, parts, H, hd) <- y (parts, B, H, T, hd)} ({@link #HEADS_MERGE}). */
    public static OpCall headsMerge(int batch, int t, int parts, int heads, int hd, DeviceBuffer y, DeviceBuffer x) {
        return HEADS_MERGE.call(new DeviceBuffer[] {y, x}, new int[] {batch, t, parts, heads, hd});
    }

    /** {@code p (rows, T, T) <- causal softmax of scale * s} ({@link #CAUSAL_SOFTMAX}). */
    public static OpCall causalSoftmax(int rows, int t, double scale, DeviceBuffer s, DeviceBuffer p) {
        return CAUSAL_SOFTMAX.call(new DeviceBuffer[] {s, p}, new int[] {rows, t}, scale);
    }

    /** {@code ds (rows, T, T) <- scale p (dp - rowdot(p, dp))} below the diagonal ({@link #CAUSAL_SOFTMAX_BACKWARD}). */
    public static OpCall causalSoftmaxBackward(int rows, int t, double scale, DeviceBuffer p, DeviceBuffer dp, DeviceBuffer ds) {
        return CAUSAL_SOFTMAX_BACKWARD.call(new DeviceBuffer[] {p, dp, ds}, new int[] {rows, t}, scale);
    }
}
