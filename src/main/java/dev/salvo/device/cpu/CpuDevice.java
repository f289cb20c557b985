package dev.salvo.device.cpu;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.OpCall;
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

    /** Runs a declared op's CPU body (see {@link CpuOps}). */
    @Override
    public void run(OpCall call) {
        countLaunch();
        ops.run(call, resolver);
    }

    /** This device's buffer behind an argument, checked (made once: running a call allocates nothing). */
    private final CpuOps.Resolver resolver = (b, intBuffer, name) -> intBuffer ? in(b, 0, name) : f(b, 0, name);

    /** Elements per task below which elementwise ops stay on one thread. */
    private static final int GRAIN = 1 << 14;

    private final DeviceInfo info;
    private final CpuPool pool;
    private final CpuOps ops;
    private final CpuGemm gemm;
    private final ActivationCpu activations;
    private final CpuReduce reduce;

    CpuDevice(DeviceInfo info, CpuSettings settings) {
        this.info = info;
        this.pool = new CpuPool(settings.threads());
        boolean vector = settings.simd() && CpuGemm.vectorApiAvailable();
        this.gemm = new CpuGemm(pool, settings.mc(), settings.kc(), settings.nc(), settings.simd());
        this.ops = new CpuOps(pool, vector, gemm);
        this.adamBody = new AdamRange(vector);
        this.activations = new ActivationCpu(pool, vector);
        this.reduce = new CpuReduce(pool);
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

    /** The pool's worker threads (the calling thread, which also works, not included). */
    public Thread[] workerThreads() {
        return pool.workerThreads();
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
    //
    // Every parallel op hands the pool a body object made once per device, its arguments set in
    // fields just before dispatch and cleared after, so no op allocates (no capturing lambdas).
    // The device is used from one thread at a time, so one body per op is enough.

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

    private final class Scale implements CpuPool.RangeBody {
        float[] a;
        int o;
        float s;

        @Override
        public void run(int from, int to) {
            float[] a = this.a;
            float s = this.s;
            for (int k = o + from; k < o + to; k++) {
                a[k] *= s;
            }
        }
    }

    private final Scale scaleBody = new Scale();

    @Override
    public void scale(DeviceBuffer x, double alpha) {
        Buf b = f(x, 0, "x");
        countLaunch();
        Scale body = scaleBody;
        body.a = b.f;
        body.o = b.off();
        body.s = (float) alpha;
        try {
            pool.forRange(b.n(), GRAIN, body);
        } finally {
            body.a = null;
        }
    }

    @Override
    public void activationForward(Activation act, DeviceBuffer x, DeviceBuffer y) {
        Buf xb = f(x, 0, "x");
        Buf yb = f(y, xb.length(), "y");
        countLaunch();
        activations.forward(act, xb.f, xb.off(), yb.f, yb.off(), xb.n());
    }

    @Override
    public void activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz) {
        Buf zb = f(z, 0, "z");
        int n = zb.n();
        Buf dyb = f(dy, n, "dy");
        Buf dzb = f(dz, n, "dz");
        countLaunch();
        activations.backward(act, zb.f, zb.off(), dyb.f, dyb.off(), dzb.f, dzb.off(), n);
    }

    // ---- matrix ---------------------------------------------------------------------------

    private final class ColumnSums implements CpuPool.RangeBody {
        int rows;
        int cols;
        float[] x;
        int xo;
        float[] out;
        int oo;

        @Override
        public void run(int c0, int c1) {
            float[] xv = x;
            float[] ov = out;
            Arrays.fill(ov, oo + c0, oo + c1, 0f);
            for (int r = 0; r < rows; r++) {
                int row = xo + r * cols;
                for (int c = c0; c < c1; c++) {
                    ov[oo + c] += xv[row + c];
                }
            }
        }
    }

    private final ColumnSums columnSumsBody = new ColumnSums();

    @Override
    public void columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = f(out, cols, "out");
        countLaunch();
        ColumnSums body = columnSumsBody;
        body.rows = rows;
        body.cols = cols;
        body.x = xb.f;
        body.xo = xb.off();
        body.out = ob.f;
        body.oo = ob.off();
        try {
            pool.forRange(cols, 64, body);
        } finally {
            body.x = null;
            body.out = null;
        }
    }

    @Override
    public void sum(DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, 0, "x");
        Buf ob = f(out, 1, "out");
        countLaunch();
        ob.f[ob.off()] = (float) reduce.sum(xb.f, xb.off(), xb.n());
    }

    private final CpuRows rowsBody = new CpuRows();

    private void runRows(CpuRows body, int rows) {
        body.run(pool, rows);
    }

    @Override
    public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        long n = (long) rows * cols;
        Buf xb = f(x, n, "x");
        Buf yb = f(y, n, "y");
        countLaunch();
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.SOFTMAX;
        body.cols = cols;
        body.a = xb.f;
        body.ao = xb.off();
        body.b = yb.f;
        body.bo = yb.off();
        runRows(body, rows);
    }
    @Override
    public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        long n = (long) rows * cols;
        Buf yb = f(y, n, "y");
        Buf dyb = f(dy, n, "dy");
        Buf dxb = f(dx, n, "dx");
        countLaunch();
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.SOFTMAX_BACKWARD;
        body.cols = cols;
        body.a = yb.f;
        body.ao = yb.off();
        body.b = dyb.f;
        body.bo = dyb.off();
        body.c = dxb.f;
        body.co = dxb.off();
        runRows(body, rows);
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
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.SOFTMAX_XENT;
        body.cols = cols;
        body.scale = gradScale;
        body.a = xb.f;
        body.ao = xb.off();
        body.ai = lb.i;
        body.bo = lb.off();
        body.c = rb.f;
        body.co = rb.off();
        body.d = db.f;
        body.dOff = db.off();
        runRows(body, rows);
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
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.MSE;
        body.cols = cols;
        body.scale = gradScale;
        body.a = pb.f;
        body.ao = pb.off();
        body.b = tb.f;
        body.bo = tb.off();
        body.c = rb.f;
        body.co = rb.off();
        body.d = db.f;
        body.dOff = db.off();
        runRows(body, rows);
    }

    @Override
    public void argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = in(out, rows, "out");
        countLaunch();
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.ARGMAX;
        body.cols = cols;
        body.a = xb.f;
        body.ao = xb.off();
        body.ci = ob.i;
        body.co = ob.off();
        runRows(body, rows);
    }

    @Override
    public void gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst) {
        Buf ib = in(index, rows, "index");
        Buf sb = arg(src, Buf.class, src.dtype(), 0, "src");
        Buf db = arg(dst, Buf.class, src.dtype(), (long) rows * cols, "dst");
        countLaunch();
        CpuRows body = rowsBody;
        body.op = CpuRows.Op.GATHER;
        body.cols = cols;
        body.srcRows = cols == 0 ? 0 : sb.n() / cols;
        body.ai = ib.i;
        body.ao = ib.off();
        body.bo = sb.off();
        body.co = db.off();
        if (sb.f != null) {
            body.b = sb.f;
            body.c = db.f;
        } else {
            body.ci = sb.i;
            body.gatherDst = db.i;
        }
        runRows(body, rows);
    }

    @Override
    public void checkFinite(DeviceBuffer x, DeviceBuffer flag) {
        Buf xb = f(x, 0, "x");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (reduce.anyNonFinite(xb.f, xb.off(), xb.n())) {
            fb.f[fb.off()] = Float.NaN;
        }
    }

    private static boolean skip(Buf flag) {
        return !Float.isFinite(flag.f[flag.off()]);
    }

    private final SgdRange sgdBody = new SgdRange();

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
        SgdRange body = sgdBody;
        body.w = wb.f;
        body.wo = wb.off();
        body.g = gb.f;
        body.go = gb.off();
        body.v = vb == null ? null : vb.f;
        body.vo = vb == null ? 0 : vb.off();
        body.lr = s.lr();
        body.mu = s.momentum();
        body.wd = s.weightDecay();
        body.nesterov = s.nesterov();
        try {
            pool.forRange(n, GRAIN, body);
        } finally {
            body.w = null;
            body.g = null;
            body.v = null;
        }
    }

    private final AdamRange adamBody;

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
        AdamRange body = adamBody;
        body.w = wb.f;
        body.wo = wb.off();
        body.g = gb.f;
        body.go = gb.off();
        body.m = mb.f;
        body.mo = mb.off();
        body.v = vb.f;
        body.vo = vb.off();
        body.set(s);
        try {
            pool.forRange(n, GRAIN, body);
        } finally {
            body.w = null;
            body.g = null;
            body.m = null;
            body.v = null;
        }
    }
}
