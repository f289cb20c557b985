package dev.salvo.device.cpu;

import dev.salvo.device.ops.AttentionOps;
import java.util.Arrays;

/**
 * CPU bodies of {@code kernels/attention.kernel} ({@link AttentionOps}). Every output element is
 * computed by one task, whatever the split, so results never depend on the thread count: the
 * embedding forward and the head reshapes split over rows (copies), the embedding backward over
 * column ranges of dweight (each task walks all rows in increasing order, so every element gets its
 * float32 additions in the kernel's order: the same bits as the kernels), the softmax ops over
 * score rows (float64 math, rounded once per stored value; float32 on {@link VectorSoftmax} when the
 * Vector API is on).
 */
final class AttentionCpu implements CpuOps.Family {

    /** Elements per task below which the work stays on one thread. */
    private static final int GRAIN = 1 << 14;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return body(name, pool, false);
    }

    /** {@code simd}: the softmax rows run in float32 on {@link VectorSoftmax}. */
    @Override
    public CpuOps.Body body(String name, CpuPool pool, boolean simd) {
        if (simd && name.equals("causal_softmax")) {
            return new VectorRows(pool, true);
        }
        if (simd && name.equals("causal_softmax_backward")) {
            return new VectorRows(pool, false);
        }
        return switch (name) {
            case "embedding_forward" -> new EmbeddingForward(pool);
            case "embedding_backward" -> new EmbeddingBackward(pool);
            case "heads_split" -> new Heads(pool, true);
            case "heads_merge" -> new Heads(pool, false);
            case "causal_softmax" -> new CausalSoftmax(pool);
            case "causal_softmax_backward" -> new CausalSoftmaxBackward(pool);
            default -> null;
        };
    }

    /** y (rows, dim) = weight[ids[r]]; a bad id gives a row of NaN. Buffers ids, weight, y. */
    private static final class EmbeddingForward extends CpuOps.Ranged {
        EmbeddingForward(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int grain(CpuOps.Args a) {
            return GRAIN / Math.max(1, a.n[1]);
        }

        @Override
        public void run(int from, int to) {
            int dim = a.n[1];
            int vocab = a.n[2];
            float[] ids = a.f[0];
            for (int r = from; r < to; r++) {
                int k = AttentionOps.tokenRow(ids[a.off[0] + r], vocab);
                int yo = a.off[2] + r * dim;
                if (k < 0) {
                    Arrays.fill(a.f[2], yo, yo + dim, Float.NaN);
                } else {
                    System.arraycopy(a.f[1], a.off[1] + k * dim, a.f[2], yo, dim);
                }
            }
        }
    }

    /**
     * dweight (vocab, dim) = (accumulate ? dweight : 0) + dy rows scattered by id, split over
     * column ranges: a task zeroes (accumulate = 0) and then updates its columns of every row of
     * dweight, walking the rows of dy in increasing order. Buffers ids, dy, dweight.
     */
    private static final class EmbeddingBackward extends CpuOps.Ranged {
        EmbeddingBackward(CpuPool pool) {
            super(pool, 16);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            // at least 16 columns (a cache line of each touched row), more when rows are few
            return Math.max(16, GRAIN / Math.max(1, a.n[0] + a.n[2]));
        }

        @Override
        public void run(int c0, int c1) {
            int rows = a.n[0];
            int dim = a.n[1];
            int vocab = a.n[2];
            float[] ids = a.f[0];
            float[] dy = a.f[1];
            float[] w = a.f[2];
            int wo = a.off[2];
            if (a.n[3] == 0) {
                for (int v = 0; v < vocab; v++) {
                    Arrays.fill(w, wo + v * dim + c0, wo + v * dim + c1, 0f);
                }
            }
            for (int r = 0; r < rows; r++) {
                int k = AttentionOps.tokenRow(ids[a.off[0] + r], vocab);
                if (k < 0) {
                    continue;
                }
                int go = a.off[1] + r * dim;
                int ko = wo + k * dim;
                for (int c = c0; c < c1; c++) {
                    w[ko + c] += dy[go + c];
                }
            }
        }
    }

    /**
     * The head reshapes, split over the output's planes of hd values: heads_split writes
     * y (parts, B, H, T, hd) from x (B, T, parts, H, hd), heads_merge the inverse. Buffers in, out.
     */
    private static final class Heads extends CpuOps.Ranged {
        private final boolean split;

        Heads(CpuPool pool, boolean split) {
            super(pool, 1);
            this.split = split;
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1] * a.n[2] * a.n[3];
        }

        @Override
        int grain(CpuOps.Args a) {
            return GRAIN / Math.max(1, a.n[4]);
        }

        @Override
        public void run(int from, int to) {
            int batch = a.n[0];
            int t = a.n[1];
            int parts = a.n[2];
            int heads = a.n[3];
            int hd = a.n[4];
            float[] in = a.f[0];
            float[] out = a.f[1];
            for (int q = from; q < to; q++) {
                int src;
                if (split) { // q = ((p B + b) H + h) T + ti in y; read (b, ti, p, h) of x
                    int ti = q % t;
                    int rest = q / t;
                    int h = rest % heads;
                    rest /= heads;
                    int b = rest % batch;
                    int p = rest / batch;
                    src = ((b * t + ti) * parts + p) * heads + h;
                } else { // q = ((b T + ti) parts + p) H + h in x; read (p, b, h, ti) of y
                    int h = q % heads;
                    int rest = q / heads;
                    int p = rest % parts;
                    rest /= parts;
                    int ti = rest % t;
                    int b = rest / t;
                    src = ((p * batch + b) * heads + h) * t + ti;
                }
                System.arraycopy(in, a.off[0] + src * hd, out, a.off[1] + q * hd, hd);
            }
        }
    }

    /** Base of the softmax ops: one task takes whole score rows of t values; rows * t of them. */
    private abstract static class ScoreRows extends CpuOps.Ranged {
        ScoreRows(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            // a row costs about t / 2 exps on average
            return GRAIN / 4 / Math.max(1, a.n[1]);
        }
    }

    /** The softmax ops on {@link VectorSoftmax}: float32, one row at a time. */
    private static final class VectorRows extends ScoreRows {
        private final boolean forward;

        VectorRows(CpuPool pool, boolean forward) {
            super(pool);
            this.forward = forward;
        }

        @Override
        int grain(CpuOps.Args a) {
            // about 10x cheaper per element than the float64 rows
            return 4 * super.grain(a);
        }

        @Override
        public void run(int from, int to) {
            int t = a.n[1];
            float scale = (float) a.r[0];
            for (int g = from; g < to; g++) {
                int i = g % t;
                if (forward) {
                    VectorSoftmax.row(a.f[0], a.off[0] + g * t, a.f[1], a.off[1] + g * t, t, i, scale);
                } else {
                    VectorSoftmax.backwardRow(a.f[0], a.off[0] + g * t, a.f[1], a.off[1] + g * t, a.f[2], a.off[2] + g * t, t, i,
                            scale);
                }
            }
        }
    }

    /** p = causal softmax of scale * s per row (float64 math). Buffers s, p; real scale. */
    private static final class CausalSoftmax extends ScoreRows {
        CausalSoftmax(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int from, int to) {
            int t = a.n[1];
            double scale = a.r[0];
            float[] s = a.f[0];
            float[] p = a.f[1];
            for (int g = from; g < to; g++) {
                int i = g % t;
                int so = a.off[0] + g * t;
                int po = a.off[1] + g * t;
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j <= i; j++) {
                    m = Math.max(m, scale * s[so + j]); // NaN propagates
                }
                double sum = 0;
                for (int j = 0; j <= i; j++) {
                    double e = Math.exp(scale * s[so + j] - m);
                    sum += e;
                    p[po + j] = (float) e; // parked in p, scaled below
                }
                double inv = 1 / sum;
                for (int j = 0; j <= i; j++) {
                    p[po + j] = (float) (p[po + j] * inv);
                }
                // masked entries: 0, or NaN when the row is NaN (as PyTorch's softmax of -inf entries)
                Arrays.fill(p, po + i + 1, po + t, Double.isNaN(sum) ? Float.NaN : 0f);
            }
        }
    }

    /** ds = scale p (dp - sum_{k <= i} p_k dp_k) below the diagonal, 0 above. Buffers p, dp, ds; real scale. */
    private static final class CausalSoftmaxBackward extends ScoreRows {
        CausalSoftmaxBackward(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int from, int to) {
            int t = a.n[1];
            double scale = a.r[0];
            float[] p = a.f[0];
            float[] dp = a.f[1];
            float[] ds = a.f[2];
            for (int g = from; g < to; g++) {
                int i = g % t;
                int po = a.off[0] + g * t;
                int go = a.off[1] + g * t;
                int so = a.off[2] + g * t;
                double dot = 0;
                for (int k = 0; k <= i; k++) {
                    dot += (double) p[po + k] * dp[go + k];
                }
                for (int j = 0; j <= i; j++) {
                    ds[so + j] = (float) (scale * p[po + j] * (dp[go + j] - dot));
                }
                Arrays.fill(ds, so + i + 1, so + t, 0f);
            }
        }
    }
}
