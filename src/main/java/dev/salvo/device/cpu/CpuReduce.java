package dev.salvo.device.cpu;

/**
 * {@link CpuDevice#sum} and {@link CpuDevice#checkFinite}: partial results of {@link #CHUNKS} fixed
 * chunks, combined in chunk order. The chunks depend on the length only (not on the thread count),
 * so a sum is bitwise the same on any pool. One instance per device; allocates nothing per call.
 */
final class CpuReduce implements CpuPool.Task {

    /** Chunks of every reduction, whatever the thread count. */
    static final int CHUNKS = 16;

    private final CpuPool pool;
    private final double[] partials = new double[CHUNKS];
    private final boolean[] bad = new boolean[CHUNKS];
    private boolean finiteCheck;
    private int n;
    private float[] x;
    private int xo;

    CpuReduce(CpuPool pool) {
        this.pool = pool;
    }

    /** The float64 sum of {@code x[xo..xo+n)}, chunk partials added in order. */
    double sum(float[] x, int xo, int n) {
        run(false, x, xo, n);
        double s = 0;
        for (double p : partials) {
            s += p;
        }
        return s;
    }

    /** True when {@code x[xo..xo+n)} holds a NaN or an infinity. */
    boolean anyNonFinite(float[] x, int xo, int n) {
        run(true, x, xo, n);
        for (boolean b : bad) {
            if (b) {
                return true;
            }
        }
        return false;
    }

    private void run(boolean finiteCheck, float[] x, int xo, int n) {
        this.finiteCheck = finiteCheck;
        this.n = n;
        this.x = x;
        this.xo = xo;
        try {
            pool.run(CHUNKS, this);
        } finally {
            this.x = null;
        }
    }

    @Override
    public void run(int task, int worker) {
        int from = CpuPool.bound(n, CHUNKS, task);
        int to = CpuPool.bound(n, CHUNKS, task + 1);
        float[] xv = x;
        if (finiteCheck) {
            // v - v is +0 for a finite v and NaN for NaN or infinity, and NaN survives addition:
            // four independent sums of v - v are all zero exactly when every value is finite
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            int k = xo + from;
            int end = xo + to;
            for (; k + 3 < end; k += 4) {
                float v0 = xv[k];
                float v1 = xv[k + 1];
                float v2 = xv[k + 2];
                float v3 = xv[k + 3];
                s0 += v0 - v0;
                s1 += v1 - v1;
                s2 += v2 - v2;
                s3 += v3 - v3;
            }
            for (; k < end; k++) {
                s0 += xv[k] - xv[k];
            }
            bad[task] = !(s0 + s1 + s2 + s3 == 0f);
        } else {
            double s = 0;
            for (int k = from; k < to; k++) {
                s += xv[xo + k];
            }
            partials[task] = s;
        }
    }
}
