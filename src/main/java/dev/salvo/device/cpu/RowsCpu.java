package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/rows.kernel} ({@link dev.salvo.device.ops.RowsOps}): softmax
 * forward/backward, softmax cross-entropy, MSE, argmax, the row gathers. Rows are split over the
 * pool in ranges; each row is computed by one task, so the split does not change results. Math in
 * float64, rounded once per stored value. A label or gather index out of range throws
 * {@link IndexOutOfBoundsException}.
 */
final class RowsCpu implements CpuOps.Family {

    /** Elements per task below which the work stays on one thread (over 8: the rows do more per element). */
    private static final int GRAIN = 1 << 14;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "softmax_forward" -> new SoftmaxForward(pool);
            case "softmax_backward" -> new SoftmaxBackward(pool);
            case "softmax_xent" -> new SoftmaxXent(pool);
            case "mse" -> new Mse(pool);
            case "argmax_rows" -> new Argmax(pool);
            case "gather_rows_f" -> new Gather(pool, false);
            case "gather_rows_i" -> new Gather(pool, true);
            case "gather_windows" -> new GatherWindows(pool);
            default -> null;
        };
    }

    /** A body over the rows (int 0) of rows of {@code cols} (int 1) values. */
    private abstract static class PerRow extends CpuOps.Ranged {
        PerRow(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int grain(CpuOps.Args a) {
            return Math.max(1, GRAIN / 8 / Math.max(1, a.n[1]));
        }
    }

    /** y = softmax(x) per row: buffers x, y. */
    private static final class SoftmaxForward extends PerRow {
        SoftmaxForward(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            float[] x = a.f[0];
            float[] y = a.f[1];
            for (int r = r0; r < r1; r++) {
                int xo = a.off[0] + r * cols;
                int yo = a.off[1] + r * cols;
                double lse = logSumExp(x, xo, cols);
                for (int c = 0; c < cols; c++) {
                    y[yo + c] = (float) Math.exp(x[xo + c] - lse);
                }
            }
        }
    }

    /** dx = y (dy - sum_j dy_j y_j) per row: buffers y, dy, dx. */
    private static final class SoftmaxBackward extends PerRow {
        SoftmaxBackward(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            float[] y = a.f[0];
            float[] dy = a.f[1];
            float[] dx = a.f[2];
            for (int r = r0; r < r1; r++) {
                int yo = a.off[0] + r * cols;
                int go = a.off[1] + r * cols;
                int xo = a.off[2] + r * cols;
                double dot = 0;
                for (int k = 0; k < cols; k++) {
                    dot += (double) dy[go + k] * y[yo + k];
                }
                for (int k = 0; k < cols; k++) {
                    dx[xo + k] = (float) (y[yo + k] * (dy[go + k] - dot));
                }
            }
        }
    }

    /** Softmax cross-entropy: buffers logits, labels (int), rowLoss, dlogits (may be logits); real gradScale. */
    private static final class SoftmaxXent extends PerRow {
        SoftmaxXent(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            double scale = a.r[0];
            float[] x = a.f[0];
            int[] labels = a.i[1];
            float[] loss = a.f[2];
            float[] dx = a.f[3];
            for (int r = r0; r < r1; r++) {
                int label = labels[a.off[1] + r];
                if (label < 0 || label >= cols) {
                    throw new IndexOutOfBoundsException("softmax_xent: label " + label + " of row " + r
                            + " outside [0," + cols + ")");
                }
                int xo = a.off[0] + r * cols;
                int go = a.off[3] + r * cols;
                double xl = x[xo + label];
                // nothing is written before the gradient loop, which reads x[k] before writing dx[k]:
                // dlogits may be the logits buffer
                double lse = logSumExp(x, xo, cols);
                loss[a.off[2] + r] = (float) (lse - xl);
                for (int k = 0; k < cols; k++) {
                    double p = Math.exp(x[xo + k] - lse);
                    dx[go + k] = (float) (scale * (k == label ? p - 1.0 : p));
                }
            }
        }
    }

    /** Mean squared error: buffers pred, target, rowLoss, dpred; real gradScale. */
    private static final class Mse extends PerRow {
        Mse(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            double scale = a.r[0];
            float[] p = a.f[0];
            float[] t = a.f[1];
            float[] loss = a.f[2];
            float[] d = a.f[3];
            for (int r = r0; r < r1; r++) {
                double s = 0;
                for (int k = 0; k < cols; k++) {
                    double diff = (double) p[a.off[0] + r * cols + k] - t[a.off[1] + r * cols + k];
                    s += diff * diff;
                    d[a.off[3] + r * cols + k] = (float) (scale * 2.0 * diff / cols);
                }
                loss[a.off[2] + r] = cols == 0 ? 0f : (float) (s / cols);
            }
        }
    }

    /** Index of the first row maximum, NaN the largest: buffers x, out (int). */
    private static final class Argmax extends PerRow {
        Argmax(CpuPool pool) {
            super(pool);
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            float[] x = a.f[0];
            int[] out = a.i[1];
            for (int r = r0; r < r1; r++) {
                int o = a.off[0] + r * cols;
                int best = 0; // NaN is the largest: the first NaN wins (torch.argmax)
                for (int k = 1; k < cols && !Float.isNaN(x[o + best]); k++) {
                    if (!(x[o + k] <= x[o + best])) {
                        best = k;
                    }
                }
                out[a.off[1] + r] = best;
            }
        }
    }

    /** dst = src[index[r]] rows: buffers src, index (int), dst; ints rows, cols, srcRows. */
    private static final class Gather extends PerRow {
        private final boolean ints;

        Gather(CpuPool pool, boolean ints) {
            super(pool);
            this.ints = ints;
        }

        @Override
        public void run(int r0, int r1) {
            int cols = a.n[1];
            int srcRows = a.n[2];
            int[] index = a.i[1];
            for (int r = r0; r < r1; r++) {
                int k = index[a.off[1] + r];
                if (k < 0 || k >= srcRows) {
                    throw new IndexOutOfBoundsException("gather: index " + k + " of row " + r + " outside [0," + srcRows + ")");
                }
                if (ints) {
                    System.arraycopy(a.i[0], a.off[0] + k * cols, a.i[2], a.off[2] + r * cols, cols);
                } else {
                    System.arraycopy(a.f[0], a.off[0] + k * cols, a.f[2], a.off[2] + r * cols, cols);
                }
            }
        }
    }

    /** Windows of a token stream: x = tokens[s .. s+T) as floats, y = tokens[s+1 .. s+T+1); ints rows, T, length. */
    private static final class GatherWindows extends CpuOps.Ranged {
        GatherWindows(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int grain(CpuOps.Args a) {
            return Math.max(1, GRAIN / Math.max(1, a.n[1]));
        }

        @Override
        public void run(int r0, int r1) {
            int t = a.n[1];
            int last = a.n[2] - t - 1;
            int[] tokens = a.i[0];
            int[] starts = a.i[1];
            float[] x = a.f[2];
            int[] y = a.i[3];
            for (int r = r0; r < r1; r++) {
                int s = starts[a.off[1] + r];
                if (s < 0 || s > last) {
                    throw new IndexOutOfBoundsException("gather_windows: start " + s + " of row " + r + " outside [0," + last + "]");
                }
                int src = a.off[0] + s;
                int xo = a.off[2] + r * t;
                int yo = a.off[3] + r * t;
                for (int j = 0; j < t; j++) {
                    x[xo + j] = tokens[src + j];
                }
                System.arraycopy(tokens, src + 1, y, yo, t);
            }
        }
    }

    /** log(sum_c exp(x_c)) of one row, max-subtracted. */
    private static double logSumExp(float[] x, int xo, int cols) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[xo + c]);
        }
        double s = 0;
        for (int c = 0; c < cols; c++) {
            s += Math.exp(x[xo + c] - max);
        }
        return max + Math.log(s);
    }
}
