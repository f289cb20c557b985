package dev.salvo.device.cpu;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.Gemm;
import dev.salvo.device.SgdStep;
import java.util.Arrays;

/**
 * The pure-Java float32 device: memory is Java arrays, ops run on one {@link CpuPool} sized to
 * the cores, matmul is the cache-blocked {@link CpuGemm}. Work is split by shape only, so the
 * same inputs give bitwise identical outputs on every run. Elementwise math is done in float64
 * and rounded once.
 */
public final class CpuDevice extends BaseDevice {

    static final class Buf extends BaseBuffer {
        final float[] f;
        final int[] i;

        Buf(CpuDevice d, DType t, int n) {
            super(d, t, n);
            f = t == DType.FLOAT ? new float[n] : null;
            i = t == DType.INT ? new int[n] : null;
        }

        private Buf(Buf parent, long off, long len) {
            super(parent, off, len);
            f = parent.f;
            i = parent.i;
        }

        @Override
        protected BaseBuffer newSlice(long off, long len) {
            return new Buf(this, off, len);
        }

        int off() {
            return (int) offset();
        }

        int n() {
            return (int) length();
        }
    }

    /** Elements per task below which elementwise ops stay on one thread. */
    private static final int GRAIN = 1 << 14;

    private final DeviceInfo info;
    private final CpuPool pool;
    private final CpuGemm gemm;
    private final double[] partials;
    private final boolean[] bad;

    CpuDevice(DeviceInfo info, CpuSettings settings) {
        this.info = info;
        this.pool = new CpuPool(settings.threads());
        this.gemm = new CpuGemm(pool, settings.mc(), settings.kc(), settings.nc(), settings.simd());
        this.partials = new double[pool.threads() * 4];
        this.bad = new boolean[pool.threads() * 4];
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public String precision() {
        return "float32";
    }

    /** Threads of this device's pool. */
    public int threads() {
        return pool.threads();
    }

    /** True when matmul uses the Vector API kernel. */
    public boolean usesSimd() {
        return gemm.usesSimd();
    }

    static void checkArrayLength(String device, long length, long elementBytes) {
        if (length < 0) {
            throw new IllegalArgumentException("negative buffer length " + length);
        }
        if (length > Integer.MAX_VALUE - 16) {
            throw new DeviceException.OutOfMemory(device + " (Java arrays hold at most 2^31-17 elements)",
                    length * elementBytes, Runtime.getRuntime().maxMemory() - usedHeap());
        }
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }

    @Override
    public DeviceBuffer allocFloat(long length) {
        return alloc(DType.FLOAT, length);
    }

    @Override
    public DeviceBuffer allocInt(long length) {
        return alloc(DType.INT, length);
    }

    private DeviceBuffer alloc(DType t, long length) {
        ensureOpen();
        checkArrayLength(info.id(), length, 4);
        try {
            return register(new Buf(this, t, (int) length));
        } catch (OutOfMemoryError e) {
            throw new DeviceException.OutOfMemory(info.id(), 4 * length, Runtime.getRuntime().maxMemory() - usedHeap());
        }
    }

    @Override
    protected void free(BaseBuffer root) {
        // Java arrays are reclaimed by the garbage collector once the buffer is unreachable
    }

    @Override
    protected void shutdown() {
        pool.close();
    }

    private Buf f(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.FLOAT, n, name);
    }

    private Buf in(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.INT, n, name);
    }

    // ---- transfers ------------------------------------------------------------------------

    @Override
    public void upload(float[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        System.arraycopy(src, 0, d.f, d.off(), d.n());
        countToDevice(4L * d.n());
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        for (int k = 0; k < d.n(); k++) {
            d.f[d.off() + k] = (float) src[k];
        }
        countToDevice(8L * d.n());
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        Buf d = in(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        System.arraycopy(src, 0, d.i, d.off(), d.n());
        countToDevice(4L * d.n());
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        System.arraycopy(s.f, s.off(), dst, 0, s.n());
        countToHost(4L * s.n());
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        for (int k = 0; k < s.n(); k++) {
            dst[k] = s.f[s.off() + k];
        }
        countToHost(4L * s.n());
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        Buf s = in(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        System.arraycopy(s.i, s.off(), dst, 0, s.n());
        countToHost(4L * s.n());
    }

    @Override
    public void synchronize() {
        ensureOpen();
    }

    // ---- elementwise ----------------------------------------------------------------------

    @Override
    public void fill(DeviceBuffer x, double value) {
        Buf b = f(x, 0, "x");
        countLaunch();
        Arrays.fill(b.f, b.off(), b.off() + b.n(), (float) value);
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        Buf s = f(src, 0, "src");
        Buf d = f(dst, s.length(), "dst");
        countLaunch();
        System.arraycopy(s.f, s.off(), d.f, d.off(), s.n());
    }

    @Override
    public void scale(DeviceBuffer x, double alpha) {
        Buf b = f(x, 0, "x");
        countLaunch();
        float[] a = b.f;
        int o = b.off();
        float s = (float) alpha;
        pool.forRange(b.n(), GRAIN, (from, to) -> {
            for (int k = o + from; k < o + to; k++) {
                a[k] *= s;
            }
        });
    }

    @Override
    public void activationForward(Activation act, DeviceBuffer x, DeviceBuffer y) {
        Buf xb = f(x, 0, "x");
        Buf yb = f(y, xb.length(), "y");
        countLaunch();
        applyActivation(act, xb.f, xb.off(), yb.f, yb.off(), xb.n());
    }

    private void applyActivation(Activation act, float[] x, int xo, float[] y, int yo, int n) {
        pool.forRange(n, GRAIN / 4, (from, to) -> activate(act, x, xo + from, y, yo + from, to - from));
    }

    /** {@code y[yo..yo+n) = act(x[xo..xo+n))}; the fast cases avoid float64 transcendental calls. */
    static void activate(Activation act, float[] x, int xo, float[] y, int yo, int n) {
        switch (act) {
            case IDENTITY -> {
                if (x != y || xo != yo) {
                    System.arraycopy(x, xo, y, yo, n);
                }
            }
            case RELU -> {
                for (int k = 0; k < n; k++) {
                    float v = x[xo + k];
                    y[yo + k] = v > 0 ? v : 0f;
                }
            }
            case LEAKY_RELU -> {
                for (int k = 0; k < n; k++) {
                    float v = x[xo + k];
                    y[yo + k] = v > 0 ? v : (float) (Activation.LEAKY_SLOPE * v);
                }
            }
            default -> {
                for (int k = 0; k < n; k++) {
                    y[yo + k] = (float) act.apply(x[xo + k]);
                }
            }
        }
    }

    @Override
    public void activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz) {
        Buf zb = f(z, 0, "z");
        int n = zb.n();
        Buf dyb = f(dy, n, "dy");
        Buf dzb = f(dz, n, "dz");
        countLaunch();
        float[] zv = zb.f;
        float[] dyv = dyb.f;
        float[] dzv = dzb.f;
        int zo = zb.off();
        int yo = dyb.off();
        int xo = dzb.off();
        pool.forRange(n, GRAIN / 4, (from, to) -> {
            for (int k = from; k < to; k++) {
                dzv[xo + k] = (float) (dyv[yo + k] * act.derivative(zv[zo + k]));
            }
        });
    }

    // ---- matrix ---------------------------------------------------------------------------

    @Override
    public void matmul(Gemm g, DeviceBuffer a, DeviceBuffer b, DeviceBuffer bias, Activation act,
                       DeviceBuffer z, DeviceBuffer y) {
        if (y == null && act != Activation.IDENTITY) {
            throw new IllegalArgumentException("matmul: activation " + act + " needs an output y");
        }
        Buf ab = f(a, g.aLength(), "a");
        Buf bb = f(b, g.bLength(), "b");
        Buf biasb = bias == null ? null : f(bias, g.n(), "bias");
        Buf zb = f(z, g.cLength(), "z");
        Buf yb = y == null ? null : f(y, g.cLength(), "y");
        countLaunch();
        gemm.multiply(g, ab.f, ab.off(), bb.f, bb.off(), zb.f, zb.off());
        if (biasb == null && yb == null) {
            return;
        }
        int n = g.n();
        float[] zv = zb.f;
        int zo = zb.off();
        pool.forRange(g.m(), Math.max(1, GRAIN / Math.max(1, n)), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int row = zo + r * n;
                if (biasb != null) {
                    float[] bv = biasb.f;
                    int bo = biasb.off();
                    for (int c = 0; c < n; c++) {
                        zv[row + c] += bv[bo + c];
                    }
                }
                if (yb != null) {
                    activate(act, zv, row, yb.f, yb.off() + r * n, n);
                }
            }
        });
    }

    @Override
    public void columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = f(out, cols, "out");
        countLaunch();
        float[] xv = xb.f;
        float[] ov = ob.f;
        int xo = xb.off();
        int oo = ob.off();
        pool.forRange(cols, 64, (c0, c1) -> {
            Arrays.fill(ov, oo + c0, oo + c1, 0f);
            for (int r = 0; r < rows; r++) {
                int row = xo + r * cols;
                for (int c = c0; c < c1; c++) {
                    ov[oo + c] += xv[row + c];
                }
            }
        });
    }

    @Override
    public void sum(DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, 0, "x");
        Buf ob = f(out, 1, "out");
        countLaunch();
        int n = xb.n();
        int chunks = partials.length;
        float[] xv = xb.f;
        int xo = xb.off();
        pool.run(chunks, (task, worker) -> {
            double s = 0;
            for (int k = CpuPool.bound(n, chunks, task); k < CpuPool.bound(n, chunks, task + 1); k++) {
                s += xv[xo + k];
            }
            partials[task] = s;
        });
        double s = 0;
        for (double p : partials) {
            s += p;
        }
        ob.f[ob.off()] = (float) s;
    }

    @Override
    public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        long n = (long) rows * cols;
        Buf xb = f(x, n, "x");
        Buf yb = f(y, n, "y");
        countLaunch();
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                softmaxRow(xb.f, xb.off() + r * cols, yb.f, yb.off() + r * cols, cols);
            }
        });
    }

    /** Writes the softmax of one row and returns {@code log(sum exp(x - max)) + max}. */
    private static double softmaxRow(float[] x, int xo, float[] y, int yo, int cols) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < cols; c++) {
            max = Math.max(max, x[xo + c]);
        }
        double s = 0;
        for (int c = 0; c < cols; c++) {
            s += Math.exp(x[xo + c] - max);
        }
        double lse = max + Math.log(s);
        for (int c = 0; c < cols; c++) {
            y[yo + c] = (float) Math.exp(x[xo + c] - lse);
        }
        return lse;
    }

    private static int rowGrain(int cols) {
        return Math.max(1, GRAIN / 8 / Math.max(1, cols));
    }

    @Override
    public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        long n = (long) rows * cols;
        Buf yb = f(y, n, "y");
        Buf dyb = f(dy, n, "dy");
        Buf dxb = f(dx, n, "dx");
        countLaunch();
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int yo = yb.off() + r * cols;
                int go = dyb.off() + r * cols;
                int xo = dxb.off() + r * cols;
                double dot = 0;
                for (int c = 0; c < cols; c++) {
                    dot += (double) dyb.f[go + c] * yb.f[yo + c];
                }
                for (int c = 0; c < cols; c++) {
                    dxb.f[xo + c] = (float) (yb.f[yo + c] * (dyb.f[go + c] - dot));
                }
            }
        });
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, DeviceBuffer logits, DeviceBuffer labels,
                                    double gradScale, DeviceBuffer rowLoss, DeviceBuffer dlogits) {
        long n = (long) rows * cols;
        Buf xb = f(logits, n, "logits");
        Buf lb = in(labels, rows, "labels");
        Buf rb = f(rowLoss, rows, "rowLoss");
        Buf db = f(dlogits, n, "dlogits");
        countLaunch();
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int label = lb.i[lb.off() + r];
                if (label < 0 || label >= cols) {
                    throw new IndexOutOfBoundsException("softmaxCrossEntropy: label " + label + " of row " + r
                            + " outside [0," + cols + ")");
                }
                int xo = xb.off() + r * cols;
                int go = db.off() + r * cols;
                double xl = xb.f[xo + label];
                double lse = softmaxRow(xb.f, xo, db.f, go, cols);
                rb.f[rb.off() + r] = (float) (lse - xl);
                for (int c = 0; c < cols; c++) {
                    double p = Math.exp(xb.f[xo + c] - lse);
                    db.f[go + c] = (float) (gradScale * (c == label ? p - 1.0 : p));
                }
            }
        });
    }

    @Override
    public void meanSquaredError(int rows, int cols, DeviceBuffer pred, DeviceBuffer target,
                                 double gradScale, DeviceBuffer rowLoss, DeviceBuffer dpred) {
        long n = (long) rows * cols;
        Buf pb = f(pred, n, "pred");
        Buf tb = f(target, n, "target");
        Buf rb = f(rowLoss, rows, "rowLoss");
        Buf db = f(dpred, n, "dpred");
        countLaunch();
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                double s = 0;
                for (int c = 0; c < cols; c++) {
                    double d = (double) pb.f[pb.off() + r * cols + c] - tb.f[tb.off() + r * cols + c];
                    s += d * d;
                    db.f[db.off() + r * cols + c] = (float) (gradScale * 2.0 * d / cols);
                }
                rb.f[rb.off() + r] = cols == 0 ? 0f : (float) (s / cols);
            }
        });
    }

    @Override
    public void argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = in(out, rows, "out");
        countLaunch();
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int o = xb.off() + r * cols;
                int best = 0;
                for (int c = 1; c < cols; c++) {
                    if (xb.f[o + c] > xb.f[o + best]) {
                        best = c;
                    }
                }
                ob.i[ob.off() + r] = best;
            }
        });
    }

    @Override
    public void gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst) {
        Buf ib = in(index, rows, "index");
        Buf sb = arg(src, Buf.class, src.dtype(), 0, "src");
        Buf db = arg(dst, Buf.class, src.dtype(), (long) rows * cols, "dst");
        countLaunch();
        int srcRows = cols == 0 ? 0 : sb.n() / cols;
        pool.forRange(rows, rowGrain(cols), (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                int k = ib.i[ib.off() + r];
                if (k < 0 || k >= srcRows) {
                    throw new IndexOutOfBoundsException("gatherRows: index " + k + " outside [0," + srcRows + ")");
                }
                if (sb.f != null) {
                    System.arraycopy(sb.f, sb.off() + k * cols, db.f, db.off() + r * cols, cols);
                } else {
                    System.arraycopy(sb.i, sb.off() + k * cols, db.i, db.off() + r * cols, cols);
                }
            }
        });
    }

    @Override
    public void checkFinite(DeviceBuffer x, DeviceBuffer flag) {
        Buf xb = f(x, 0, "x");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        int n = xb.n();
        int chunks = bad.length;
        pool.run(chunks, (task, worker) -> {
            boolean found = false;
            for (int k = CpuPool.bound(n, chunks, task); k < CpuPool.bound(n, chunks, task + 1); k++) {
                float v = xb.f[xb.off() + k];
                // v - v is NaN exactly when v is NaN or infinite
                found |= (v - v) != 0f || v != v;
            }
            bad[task] = found;
        });
        for (boolean b : bad) {
            if (b) {
                fb.f[fb.off()] = Float.NaN;
                return;
            }
        }
    }

    private static boolean skip(Buf flag) {
        return !Float.isFinite(flag.f[flag.off()]);
    }

    @Override
    public void sgdUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer flag) {
        Buf wb = f(w, 0, "w");
        int n = wb.n();
        Buf gb = f(g, n, "g");
        Buf vb = s.momentum() == 0 ? null : f(velocity, n, "velocity");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (skip(fb)) {
            return;
        }
        double lr = s.lr();
        double mu = s.momentum();
        double wd = s.weightDecay();
        boolean nesterov = s.nesterov();
        pool.forRange(n, GRAIN, (from, to) -> {
            for (int k = from; k < to; k++) {
                int wi = wb.off() + k;
                double d = gb.f[gb.off() + k] + wd * wb.f[wi];
                if (vb != null) {
                    int vi = vb.off() + k;
                    float v = (float) (mu * vb.f[vi] + d);
                    vb.f[vi] = v;
                    d = nesterov ? d + mu * v : v;
                }
                wb.f[wi] = (float) (wb.f[wi] - lr * d);
            }
        });
    }

    @Override
    public void adamUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer flag) {
        Buf wb = f(w, 0, "w");
        int n = wb.n();
        Buf gb = f(g, n, "g");
        Buf mb = f(m, n, "m");
        Buf vb = f(v, n, "v");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (skip(fb)) {
            return;
        }
        double lr = s.lr();
        double b1 = s.beta1();
        double b2 = s.beta2();
        double eps = s.eps();
        double wd = s.weightDecay();
        boolean decoupled = s.decoupled();
        double stepSize = lr / s.biasCorrection1();
        double sqrtBc2 = Math.sqrt(s.biasCorrection2());
        pool.forRange(n, GRAIN, (from, to) -> {
            for (int k = from; k < to; k++) {
                int wi = wb.off() + k;
                double wv = wb.f[wi];
                double d = gb.f[gb.off() + k];
                if (decoupled) {
                    wv *= 1.0 - lr * wd;
                } else {
                    d += wd * wv;
                }
                int mi = mb.off() + k;
                int vi = vb.off() + k;
                float mv = (float) (b1 * mb.f[mi] + (1 - b1) * d);
                float vv = (float) (b2 * vb.f[vi] + (1 - b2) * d * d);
                mb.f[mi] = mv;
                vb.f[vi] = vv;
                wb.f[wi] = (float) (wv - stepSize * mv / (Math.sqrt(vv) / sqrtBc2 + eps));
            }
        });
    }
}
