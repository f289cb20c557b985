package dev.salvo.device.cpu;

/**
 * One body for {@link CpuDevice}'s row-wise ops (softmax forward/backward, softmax cross-entropy,
 * MSE, argmax, gather): {@code op} picks the loop, the fields hold its arguments (each loop names
 * which array field is which operand). Rows are split over the pool in ranges; each row is computed
 * by one task, so the split does not change results. One instance per device, set before each call.
 */
final class CpuRows implements CpuPool.RangeBody {

    /** The row-wise ops. */
    enum Op { SOFTMAX, SOFTMAX_BACKWARD, SOFTMAX_XENT, MSE, ARGMAX, GATHER }

    /** Elements per task below which the work stays on one thread (over 8: the rows do more per element). */
    private static final int GRAIN = 1 << 14;

    Op op;
    int cols;
    double scale;
    int srcRows;
    float[] a;
    int ao;
    float[] b;
    int bo;
    float[] c;
    int co;
    float[] d;
    int dOff;
    int[] ai;
    int[] ci;

    @Override
    public void run(int r0, int r1) {
        switch (op) {
            case SOFTMAX -> softmax(r0, r1);
            case SOFTMAX_BACKWARD -> softmaxBackward(r0, r1);
            case SOFTMAX_XENT -> softmaxXent(r0, r1);
            case MSE -> mse(r0, r1);
            case ARGMAX -> argmax(r0, r1);
            case GATHER -> gather(r0, r1);
        }
    }

    // a = x, b = y
    private void softmax(int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            softmaxRow(a, ao + r * cols, b, bo + r * cols, cols);
        }
    }

    // a = y, b = dy, c = dx
    private void softmaxBackward(int r0, int r1) {
        float[] y = a;
        float[] dy = b;
        float[] dx = c;
        for (int r = r0; r < r1; r++) {
            int yo = ao + r * cols;
            int go = bo + r * cols;
            int xo = co + r * cols;
            double dot = 0;
            for (int k = 0; k < cols; k++) {
                dot += (double) dy[go + k] * y[yo + k];
            }
            for (int k = 0; k < cols; k++) {
                dx[xo + k] = (float) (y[yo + k] * (dy[go + k] - dot));
            }
        }
    }

    // a = logits, ai = labels (offset bo), c = rowLoss, d = dlogits
    private void softmaxXent(int r0, int r1) {
        float[] x = a;
        float[] dx = d;
        for (int r = r0; r < r1; r++) {
            int label = ai[bo + r];
            if (label < 0 || label >= cols) {
                throw new IndexOutOfBoundsException("softmaxCrossEntropy: label " + label + " of row " + r
                        + " outside [0," + cols + ")");
            }
            int xo = ao + r * cols;
            int go = dOff + r * cols;
            double xl = x[xo + label];
            // nothing is written before the gradient loop, which reads x[k] before writing dx[k]:
            // dlogits may be the logits buffer
            double lse = logSumExp(x, xo, cols);
            c[co + r] = (float) (lse - xl);
            for (int k = 0; k < cols; k++) {
                double p = Math.exp(x[xo + k] - lse);
                dx[go + k] = (float) (scale * (k == label ? p - 1.0 : p));
            }
        }
    }

    // a = pred, b = target, c = rowLoss, d = dpred
    private void mse(int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            double s = 0;
            for (int k = 0; k < cols; k++) {
                double diff = (double) a[ao + r * cols + k] - b[bo + r * cols + k];
                s += diff * diff;
                d[dOff + r * cols + k] = (float) (scale * 2.0 * diff / cols);
            }
            c[co + r] = cols == 0 ? 0f : (float) (s / cols);
        }
    }

    // a = x, ci = out (offset co)
    private void argmax(int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int o = ao + r * cols;
            int best = 0; // NaN is the largest: the first NaN wins (torch.argmax)
            for (int k = 1; k < cols && !Float.isNaN(a[o + best]); k++) {
                if (!(a[o + k] <= a[o + best])) {
                    best = k;
                }
            }
            ci[co + r] = best;
        }
    }

    // ai = index (offset ao); float rows: b = src (offset bo), c = dst (offset co);
    // int rows: ci = src (offset bo), gatherDst = dst (offset co)
    private void gather(int r0, int r1) {
        for (int r = r0; r < r1; r++) {
            int k = ai[ao + r];
            if (k < 0 || k >= srcRows) {
                throw new IndexOutOfBoundsException("gatherRows: index " + k + " outside [0," + srcRows + ")");
            }
            if (b != null) {
                System.arraycopy(b, bo + k * cols, c, co + r * cols, cols);
            } else {
                System.arraycopy(ci, bo + k * cols, gatherDst, co + r * cols, cols);
            }
        }
    }

    int[] gatherDst;

    void clear() {
        a = null;
        b = null;
        c = null;
        d = null;
        ai = null;
        ci = null;
        gatherDst = null;
    }

    /** Runs the op set in the fields over {@code rows} rows, then drops the array references. */
    void run(CpuPool pool, int rows) {
        try {
            pool.forRange(rows, rowGrain(cols), this);
        } finally {
            clear();
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

    /** Writes the softmax of one row and returns {@code log(sum exp(x - max)) + max}. */
    private static double softmaxRow(float[] x, int xo, float[] y, int yo, int cols) {
        double lse = logSumExp(x, xo, cols);
        for (int c = 0; c < cols; c++) {
            y[yo + c] = (float) Math.exp(x[xo + c] - lse);
        }
        return lse;
    }

    private static int rowGrain(int cols) {
        return Math.max(1, GRAIN / 8 / Math.max(1, cols));
    }
}
