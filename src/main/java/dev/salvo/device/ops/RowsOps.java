package dev.salvo.device.ops;

import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.ReferenceOps;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Row-wise ops on x (R,C), C small (classes): softmax and its backward, the fused losses, argmax
 * and the row gather ({@code kernels/rows.kernel}). One work-item per row in work-groups of the
 * device's {@code wg.rows} ({@link Op.Launch#wgRows()}); {@code softmax_xent} takes {@code ew.vw}
 * rows per work-item ({@link Op.Launch#ewVw()}); the gathers take one work-item per element in
 * work-groups of {@code wg.elementwise}. The float64 specification is {@link ReferenceOps}.
 *
 * <p>Out-of-range labels and indices never read outside a buffer, but the providers answer
 * differently: the kernels write a NaN loss (a label outside [0,C)) or NaN / -1 (a gather index
 * outside [0,S)) and go on, so the trainer's health check stops the run; the CPU provider throws
 * {@link IndexOutOfBoundsException} and the reference device throws (an
 * {@link IllegalArgumentException} for a label, an {@link IndexOutOfBoundsException} for an index).
 */
public final class RowsOps {

    private RowsOps() {
    }

    /** Base of the ops over x (R,C) with ints {@code rows, cols} first: one work-item per row, groups of {@code wg.rows}. */
    private abstract static class Rows extends Op {
        Rows(String name, String signature) {
            super("rows", name, signature);
        }

        static long elements(int[] n) {
            return (long) n[0] * n[1];
        }

        @Override
        public long work(int[] n) {
            return n[0];
        }

        @Override
        public long[] local(int[] n, Launch t) {
            return new long[] {t.wgRows()};
        }

        static double[] get(RefArgs a, int b, long len) {
            return Arrays.copyOfRange(a.f[b], a.off[b], a.off[b] + (int) len);
        }

        static int[] getInts(RefArgs a, int b, long len) {
            return Arrays.copyOfRange(a.i[b], a.off[b], a.off[b] + (int) len);
        }

        static void put(double[] v, RefArgs a, int b) {
            System.arraycopy(v, 0, a.f[b], a.off[b], v.length);
        }

        static double[] uniform(int length, Random r, double scale) {
            double[] x = new double[length];
            for (int i = 0; i < length; i++) {
                x[i] = scale * (2 * r.nextDouble() - 1);
            }
            return x;
        }
    }

    /** {@code y (R,C) <- softmax over each row of x (R,C)}, max-subtracted. */
    public static final Op SOFTMAX_FORWARD = new Rows("softmax_forward", "int rows, int cols, in x, out y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), elements(n)};
        }

        @Override
        public void reference(RefArgs a) {
            put(ReferenceOps.softmax(a.n[0], a.n[1], get(a, 0, elements(a.n))), a, 1);
        }

        /** Logits in [-8, 8), as the contract has always drawn them. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return uniform(length, r, 8);
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("17x23", r, new int[] {17, 23}), sample("37x10", r, new int[] {37, 10}),
                    sample("1x1", r, new int[] {1, 1}), sample("no rows", r, new int[] {0, 5}));
        }
    };

    /** {@code dx (R,C) <- y * (dy - sum_j dy_j y_j)} per row, y the softmax output. */
    public static final Op SOFTMAX_BACKWARD = new Rows("softmax_backward", "int rows, int cols, in y, in dy, out dx") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), elements(n), elements(n)};
        }

        @Override
        public void reference(RefArgs a) {
            long len = elements(a.n);
            put(ReferenceOps.softmaxBackward(a.n[0], a.n[1], get(a, 0, len), get(a, 1, len)), a, 2);
        }

        /** y: softmax rows of logits in [-4, 4) (what the forward leaves); dy in [-1, 1). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            if (b != 0) {
                return super.input(b, length, n, r);
            }
            return ReferenceOps.softmax(n[0], n[1], uniform(length, r, 4));
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("17x23", r, new int[] {17, 23}), sample("37x10", r, new int[] {37, 10}),
                    sample("1x1", r, new int[] {1, 1}), sample("no rows", r, new int[] {0, 5}));
        }
    };

    /** Base of the two losses: {@code int rows, int cols, in p, in t/labels, real gradScale, out rowLoss, out grad}. */
    private abstract static class Loss extends Rows {
        Loss(String name, String signature) {
            super(name, signature);
        }

        /** The second input: labels (R) or targets (R,C). */
        abstract long secondLength(int[] n);

        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), secondLength(n), n[0], elements(n)};
        }
    }

    /**
     * Fused softmax cross-entropy, forward and backward: for logits {@code x (R,C)} and labels
     * {@code (R)} in {@code [0,C)}: {@code rowLoss (R) <- logsumexp(x_r) - x_r[label_r]} and
     * {@code dlogits (R,C) <- gradScale * (softmax(x_r) - onehot(label_r))}. dlogits may be logits.
     * Kernel: {@code ew.vw} rows per work-item.
     */
    public static final Op SOFTMAX_XENT = new Loss("softmax_xent",
            "int rows, int cols, in logits, iin labels, real gradScale, out rowLoss, out dlogits") {
        @Override
        long secondLength(int[] n) {
            return n[0];
        }

        @Override
        public long[] global(int[] n, Launch t) {
            return new long[] {(n[0] + (long) t.ewVw() - 1) / t.ewVw()};
        }

        @Override
        public void reference(RefArgs a) {
            ReferenceOps.LossResult res = ReferenceOps.softmaxCrossEntropy(a.n[0], a.n[1], get(a, 0, elements(a.n)),
                    getInts(a, 1, a.n[0]), a.r[0]);
            put(res.rowLoss(), a, 2);
            put(res.grad(), a, 3);
        }

        /** Logits in [-10, 10). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return uniform(length, r, 10);
        }

        /** Labels in [0, C). */
        @Override
        public int[] intInput(int b, int length, int[] n, Random r) {
            int[] l = new int[length];
            for (int i = 0; i < length; i++) {
                l[i] = r.nextInt(n[1]);
            }
            return l;
        }

        /** Short rows (the kernel's blocked vector path, C <= 16) and long rows (its scalar path), row counts off any vector width. */
        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("31x10", r, new int[] {31, 10}, 1.0 / 31), sample("33x3", r, new int[] {33, 3}, 1.0 / 33),
                    sample("37x23", r, new int[] {37, 23}, 1.0 / 37), sample("40x10", r, new int[] {40, 10}, 0.37),
                    sample("1x1", r, new int[] {1, 1}, 1.0), sample("no rows", r, new int[] {0, 10}, 1.0));
        }
    };

    /**
     * Mean squared error, forward and backward: {@code rowLoss (R) <- mean_j (p - t)^2} (0 when
     * C = 0) and {@code dpred (R,C) <- gradScale * 2 (p - t) / C} for predictions {@code p (R,C)},
     * targets {@code t (R,C)}.
     */
    public static final Op MSE = new Loss("mse", "int rows, int cols, in pred, in target, real gradScale, out rowLoss, out dpred") {
        @Override
        long secondLength(int[] n) {
            return elements(n);
        }

        @Override
        public void reference(RefArgs a) {
            long len = elements(a.n);
            ReferenceOps.LossResult res = ReferenceOps.meanSquaredError(a.n[0], a.n[1], get(a, 0, len), get(a, 1, len), a.r[0]);
            put(res.rowLoss(), a, 2);
            put(res.grad(), a, 3);
        }

        /** Predictions and targets in [-3, 3). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return uniform(length, r, 3);
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("19x7", r, new int[] {19, 7}, 0.5), sample("64x10", r, new int[] {64, 10}, 1.0 / 64),
                    sample("1x1", r, new int[] {1, 1}, 1.0), sample("no columns", r, new int[] {5, 0}, 0.2),
                    sample("no rows", r, new int[] {0, 7}, 1.0));
        }
    };

    /**
     * {@code out (R) int <- index of the first maximum of each row of x (R,C)}; NaN is the largest
     * value, the first NaN wins (torch.argmax); 0 for every row when C = 0.
     */
    public static final Op ARGMAX_ROWS = new Rows("argmax_rows", "int rows, int cols, in x, iout out") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {elements(n), n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            int[] res = ReferenceOps.argmax(a.n[0], a.n[1], get(a, 0, elements(a.n)));
            System.arraycopy(res, 0, a.i[1], a.off[1], res.length);
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("41x13", r, new int[] {41, 13}), sample("7x1", r, new int[] {7, 1}),
                    sample("no rows", r, new int[] {0, 4}));
        }
    };

    /**
     * Base of the gathers: {@code dst (R,C) <- src[index[r]]}, rows of {@code src (S,C)} with
     * {@code S = srcRows}; one work-item per element, groups of {@code wg.elementwise}. An index
     * outside [0,S) never reads out of bounds (see the class comment for what each provider does).
     */
    private abstract static class Gather extends Op {
        Gather(String name, String signature) {
            super("rows", name, signature);
        }

        @Override
        public long[] lengths(int[] n) {
            return new long[] {(long) n[2] * n[1], n[0], (long) n[0] * n[1]};
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * n[1];
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        /** Indices in [0, S); int sources in [-500, 500). */
        @Override
        public int[] intInput(int b, int length, int[] n, Random r) {
            int[] x = new int[length];
            for (int i = 0; i < length; i++) {
                x[i] = b == 1 ? r.nextInt(n[2]) : r.nextInt(1000) - 500;
            }
            return x;
        }

        static int checkedIndex(RefArgs a, int r) {
            int k = a.i[1][a.off[1] + r];
            if (k < 0 || k >= a.n[2]) {
                throw new IndexOutOfBoundsException("gather: index " + k + " of row " + r + " outside [0," + a.n[2] + ")");
            }
            return k;
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("25 of 41x13", r, new int[] {25, 13, 41}), sample("60 of 7x1", r, new int[] {60, 1, 7}),
                    sample("no rows", r, new int[] {0, 5, 3}));
        }
    }

    /** {@code dst (R,C) <- src[index[r]]} over float buffers. */
    public static final Op GATHER_ROWS_F = new Gather("gather_rows_f", "int rows, int cols, int srcRows, in src, iin index, out dst") {
        @Override
        public void reference(RefArgs a) {
            int cols = a.n[1];
            for (int r = 0; r < a.n[0]; r++) {
                System.arraycopy(a.f[0], a.off[0] + checkedIndex(a, r) * cols, a.f[2], a.off[2] + r * cols, cols);
            }
        }
    };

    /** {@code dst (R,C) <- src[index[r]]} over int buffers. */
    public static final Op GATHER_ROWS_I = new Gather("gather_rows_i", "int rows, int cols, int srcRows, iin src, iin index, iout dst") {
        @Override
        public void reference(RefArgs a) {
            int cols = a.n[1];
            for (int r = 0; r < a.n[0]; r++) {
                System.arraycopy(a.i[0], a.off[0] + checkedIndex(a, r) * cols, a.i[2], a.off[2] + r * cols, cols);
            }
        }
    };

    /**
     * Windows of a token stream ({@code kernels/rows.kernel} {@code gather_windows}): for row r and
     * position t, {@code x[r*T + t] = (float) tokens[starts[r] + t]} and
     * {@code y[r*T + t] = tokens[starts[r] + t + 1]}: a language model's inputs (token ids as exact
     * floats, so ids below 2^24) and its next-token labels. Ints {@code rows, T, length} (the
     * stream's tokens); a start must lie in {@code [0, length - T - 1]} (the kernels write NaN /
     * -1 for the row's values otherwise, the CPU provider and the reference throw). One work-item
     * per element, groups of {@code wg.elementwise}.
     */
    public static final Op GATHER_WINDOWS = new Op("rows", "gather_windows",
            "int rows, int T, int length, iin tokens, iin starts, out x, iout y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[2], n[0], (long) n[0] * n[1], (long) n[0] * n[1]};
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * n[1];
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        /** Tokens in [0, 5000); starts in [0, length - T - 1]. */
        @Override
        public int[] intInput(int b, int length, int[] n, Random r) {
            int[] v = new int[length];
            for (int i = 0; i < length; i++) {
                v[i] = b == 0 ? r.nextInt(5000) : r.nextInt(n[2] - n[1]);
            }
            return v;
        }

        @Override
        public void reference(RefArgs a) {
            int t = a.n[1];
            for (int row = 0; row < a.n[0]; row++) {
                int s = a.i[1][a.off[1] + row];
                if (s < 0 || s > a.n[2] - t - 1) {
                    throw new IndexOutOfBoundsException("gather_windows: start " + s + " of row " + row + " outside [0,"
                            + (a.n[2] - t - 1) + "]");
                }
                for (int j = 0; j < t; j++) {
                    a.f[2][a.off[2] + row * t + j] = a.i[0][a.off[0] + s + j];
                    a.i[3][a.off[3] + row * t + j] = a.i[0][a.off[0] + s + j + 1];
                }
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("12 windows of 16 in 100", r, new int[] {12, 16, 100}),
                    sample("5 windows of 1 in 2", r, new int[] {5, 1, 2}),
                    sample("33 windows of 7 in 8", r, new int[] {33, 7, 8}),
                    sample("no rows", r, new int[] {0, 4, 9}));
        }
    };

    public static final List<Op> ALL = List.of(SOFTMAX_FORWARD, SOFTMAX_BACKWARD, SOFTMAX_XENT, MSE, ARGMAX_ROWS,
            GATHER_ROWS_F, GATHER_ROWS_I, GATHER_WINDOWS);

    // ---- calls ------------------------------------------------------------------------------

    /** {@code y (R,C) <- softmax(x (R,C))} per row. */
    public static OpCall softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        return SOFTMAX_FORWARD.call(new DeviceBuffer[] {x, y}, new int[] {rows, cols});
    }

    /** {@code dx (R,C) <- y * (dy - sum_j dy_j y_j)} per row. */
    public static OpCall softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        return SOFTMAX_BACKWARD.call(new DeviceBuffer[] {y, dy, dx}, new int[] {rows, cols});
    }

    /** Fused softmax cross-entropy ({@link #SOFTMAX_XENT}); dlogits may be logits. */
    public static OpCall softmaxCrossEntropy(int rows, int cols, DeviceBuffer logits, DeviceBuffer labels, double gradScale,
                                             DeviceBuffer rowLoss, DeviceBuffer dlogits) {
        return SOFTMAX_XENT.call(new DeviceBuffer[] {logits, labels, rowLoss, dlogits}, new int[] {rows, cols}, gradScale);
    }

    /** Mean squared error, forward and backward ({@link #MSE}). */
    public static OpCall meanSquaredError(int rows, int cols, DeviceBuffer pred, DeviceBuffer target, double gradScale,
                                          DeviceBuffer rowLoss, DeviceBuffer dpred) {
        return MSE.call(new DeviceBuffer[] {pred, target, rowLoss, dpred}, new int[] {rows, cols}, gradScale);
    }

    /** {@code out (R) int <- argmax of each row of x (R,C)} ({@link #ARGMAX_ROWS}). */
    public static OpCall argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        return ARGMAX_ROWS.call(new DeviceBuffer[] {x, out}, new int[] {rows, cols});
    }

    /**
     * {@code dst (R,C) <- src[index[r]]}, rows of {@code src}, float or int ({@link #GATHER_ROWS_F},
     * {@link #GATHER_ROWS_I} by src's type); {@code src} holds {@code S = src.length() / C} rows
     * (0 when C = 0).
     */
    public static OpCall gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst) {
        int srcRows = cols == 0 ? 0 : Math.toIntExact(src.length() / cols);
        Op op = src.dtype() == DType.INT ? GATHER_ROWS_I : GATHER_ROWS_F;
        return op.call(new DeviceBuffer[] {src, index, dst}, new int[] {rows, cols, srcRows});
    }

    /**
     * Windows of {@code T} tokens of {@code tokens} (int, the whole stream) from {@code starts[r]}
     * into {@code x (rows, T)} (float ids) and {@code y (rows, T)} (the next tokens, int)
     * ({@link #GATHER_WINDOWS}).
     */
    public static OpCall gatherWindows(int rows, int t, DeviceBuffer tokens, DeviceBuffer starts, DeviceBuffer x, DeviceBuffer y) {
        return GATHER_WINDOWS.call(new DeviceBuffer[] {tokens, starts, x, y}, new int[] {rows, t, Math.toIntExact(tokens.length())});
    }
}
