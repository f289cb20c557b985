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
        dev.salvo.device.Op op = call.op();
        CpuOps.Body body = ops.body(op);
        CpuOps.Args a = ops.args(op);
        for (int b = 0; b < op.bufferCount(); b++) {
            dev.salvo.device.Op.Param p = op.buffer(b);
            Buf x = p.kind().isIntBuffer() ? in(call.buffer(b), 0, p.name()) : f(call.buffer(b), 0, p.name());
            a.f[b] = x.f;
            a.i[b] = x.i;
            a.off[b] = x.off();
        }
        a.n = call.ints();
        a.r = call.reals();
        countLaunch();
        try {
            body.run(a);
        } finally {
            a.clear();
        }
    }

    /** Elements per task below which elementwise ops stay on one thread. */
    private static final int GRAIN = 1 << 14;

    private final DeviceInfo info;
    private final CpuPool pool;
    private final CpuOps ops;
    private final CpuGemm gemm;
    private final ActivationCpu activations;
    private final double[] partials;
    private final boolean[] bad;

    CpuDevice(DeviceInfo info, CpuSettings settings) {
        this.info = info;
        this.pool = new CpuPool(settings.threads());
        this.ops = new CpuOps(pool);
        this.gemm = new CpuGemm(pool, settings.mc(), settings.kc(), settings.nc(), settings.simd());
        boolean vector = settings.simd() && CpuGemm.vectorApiAvailable();
        this.adamBody = new AdamRange(vector);
        this.activations = new ActivationCpu(pool, vector);
        this.epilogue = new MatmulEpilogue(vector);
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

    private final MatmulEpilogue epilogue;

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
        // product (added to z when g accumulates), then bias and activation per row of every entry
        gemm.multiply(g, ab.f, ab.off(), bb.f, bb.off(), zb.f, zb.off());
        if (biasb == null && yb == null) {
            return;
        }
        int n = g.n();
        if (n == 0) {
            return;
        }
        // n > 0: the entries' rows (batch * m * n <= z's length) fit an int
        long rows = (long) g.m() * g.batch();
        MatmulEpilogue body = epilogue;
        body.m = g.m();
        body.n = n;
        body.stride = g.strideC();
        body.z = zb.f;
        body.zo = zb.off();
        body.bias = biasb == null ? null : biasb.f;
        body.bo = biasb == null ? 0 : biasb.off();
        body.act = act;
        body.y = yb == null ? null : yb.f;
        body.yo = yb == null ? 0 : yb.off();
        try {
            pool.forRange((int) rows, Math.max(1, GRAIN / Math.max(1, n)), body);
        } finally {
            body.z = null;
            body.bias = null;
            body.y = null;
        }
    }

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

    /** Partial sums of fixed chunks into {@link #partials} (or non-finite flags into {@link #bad}). */
    private final class Reduce implements CpuPool.Task {
        boolean finiteCheck;
        int n;
        int chunks;
        float[] x;
        int xo;

        @Override
        public void run(int task, int worker) {
            int from = CpuPool.bound(n, chunks, task);
            int to = CpuPool.bound(n, chunks, task + 1);
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

    private final Reduce reduce = new Reduce();

    private void reduce(boolean finiteCheck, Buf xb, int chunks) {
        Reduce body = reduce;
        body.finiteCheck = finiteCheck;
        body.n = xb.n();
        body.chunks = chunks;
        body.x = xb.f;
        body.xo = xb.off();
        try {
            pool.run(chunks, body);
        } finally {
            body.x = null;
        }
    }

    @Override
    public void sum(DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, 0, "x");
        Buf ob = f(out, 1, "out");
        countLaunch();
        reduce(false, xb, partials.length);
        double s = 0;
        for (double p : partials) {
            s += p;
        }
        ob.f[ob.off()] = (float) s;
    }

    /** The row-wise ops (softmax forward/backward, softmax cross-entropy, MSE, argmax, gather). */
    private enum RowOp { SOFTMAX, SOFTMAX_BACKWARD, SOFTMAX_XENT, MSE, ARGMAX, GATHER }

    /**
     * One body for the row-wise ops: {@code op} picks the loop, the fields hold its arguments
     * (each loop names which array field is which operand).
     */
    private final class Rows implements CpuPool.RangeBody {
        RowOp op;
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
    }

    private final Rows rowsBody = new Rows();

    private void runRows(Rows body, int rows) {
        try {
            pool.forRange(rows, rowGrain(body.cols), body);
        } finally {
            body.clear();
        }
    }

    @Override
    public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        long n = (long) rows * cols;
        Buf xb = f(x, n, "x");
        Buf yb = f(y, n, "y");
        countLaunch();
        Rows body = rowsBody;
        body.op = RowOp.SOFTMAX;
        body.cols = cols;
        body.a = xb.f;
        body.ao = xb.off();
        body.b = yb.f;
        body.bo = yb.off();
        runRows(body, rows);
    }

    /** Writes the softmax of one row and returns {@code log(sum exp(x - max)) + max}. */
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

    @Override
    public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        long n = (long) rows * cols;
        Buf yb = f(y, n, "y");
        Buf dyb = f(dy, n, "dy");
        Buf dxb = f(dx, n, "dx");
        countLaunch();
        Rows body = rowsBody;
        body.op = RowOp.SOFTMAX_BACKWARD;
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
        Rows body = rowsBody;
        body.op = RowOp.SOFTMAX_XENT;
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
        Rows body = rowsBody;
        body.op = RowOp.MSE;
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
        Rows body = rowsBody;
        body.op = RowOp.ARGMAX;
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
        Rows body = rowsBody;
        body.op = RowOp.GATHER;
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
        reduce(true, xb, bad.length);
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

    private final class Sgd implements CpuPool.RangeBody {
        float[] w;
        int wo;
        float[] g;
        int go;
        float[] v;
        int vo;
        double lr;
        double mu;
        double wd;
        boolean nesterov;

        @Override
        public void run(int from, int to) {
            float[] wv = w;
            float[] gv = g;
            float[] vv = v;
            for (int k = from; k < to; k++) {
                int wi = wo + k;
                double d = gv[go + k] + wd * wv[wi];
                if (vv != null) {
                    int vi = vo + k;
                    float nv = (float) (mu * vv[vi] + d);
                    vv[vi] = nv;
                    d = nesterov ? d + mu * nv : nv;
                }
                wv[wi] = (float) (wv[wi] - lr * d);
            }
        }
    }

    private final Sgd sgdBody = new Sgd();

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
        Sgd body = sgdBody;
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
