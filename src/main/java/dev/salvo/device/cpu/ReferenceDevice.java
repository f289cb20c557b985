package dev.salvo.device.cpu;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.OpCall;
import dev.salvo.device.ReferenceOps;
import dev.salvo.device.SgdStep;
import java.util.Arrays;

/**
 * A device that runs every op with {@link ReferenceOps} in float64: the yardstick for the
 * training-consistency tests and the engine of the whole-network gradient checks. Slow by design;
 * {@code auto} never picks it, {@code --device reference} does.
 */
public final class ReferenceDevice extends BaseDevice {

    static final class Buf extends BaseBuffer {
        final double[] f;
        final int[] i;

        Buf(ReferenceDevice d, DType t, int n) {
            super(d, t, n);
            f = t == DType.FLOAT ? new double[n] : null;
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
    }

    private final DeviceInfo info;

    public ReferenceDevice() {
        this.info = new DeviceInfo("reference", 0, "float64 reference (ReferenceOps)", DeviceKind.REFERENCE,
                Runtime.getRuntime().maxMemory(), 1, "naive loops, one thread");
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public String precision() {
        return "float64";
    }

    @Override
    protected long elementBytes(DType type) {
        return type == DType.FLOAT ? 8 : 4;
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
        CpuDevice.checkArrayLength(info.id(), length, elementBytes(t));
        return register(new Buf(this, t, (int) length));
    }

    @Override
    protected void free(BaseBuffer root) {
        // garbage collected
    }

    @Override
    protected void shutdown() {
    }

    private Buf f(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.FLOAT, n, name);
    }

    private Buf in(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.INT, n, name);
    }

    private static double[] get(Buf b, long n) {
        return Arrays.copyOfRange(b.f, b.off(), b.off() + (int) n);
    }

    private static int[] ints(Buf b, long n) {
        return Arrays.copyOfRange(b.i, b.off(), b.off() + (int) n);
    }

    private static void put(double[] v, Buf b) {
        System.arraycopy(v, 0, b.f, b.off(), v.length);
    }

    // ---- transfers ------------------------------------------------------------------------

    @Override
    public void upload(float[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        for (int k = 0; k < d.length(); k++) {
            d.f[d.off() + k] = src[k];
        }
        countToDevice(4 * d.length());
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        System.arraycopy(src, 0, d.f, d.off(), (int) d.length());
        countToDevice(8 * d.length());
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        Buf d = in(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        System.arraycopy(src, 0, d.i, d.off(), (int) d.length());
        countToDevice(4 * d.length());
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        for (int k = 0; k < s.length(); k++) {
            dst[k] = (float) s.f[s.off() + k];
        }
        countToHost(4 * s.length());
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        System.arraycopy(s.f, s.off(), dst, 0, (int) s.length());
        countToHost(8 * s.length());
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        Buf s = in(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        System.arraycopy(s.i, s.off(), dst, 0, (int) s.length());
        countToHost(4 * s.length());
    }

    @Override
    public void synchronize() {
        ensureOpen();
    }

    // ---- ops ------------------------------------------------------------------------------

    @Override
    public void fill(DeviceBuffer x, double value) {
        Buf b = f(x, 0, "x");
        countLaunch();
        Arrays.fill(b.f, b.off(), b.off() + (int) b.length(), value);
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        Buf s = f(src, 0, "src");
        Buf d = f(dst, s.length(), "dst");
        countLaunch();
        System.arraycopy(s.f, s.off(), d.f, d.off(), (int) s.length());
    }

    @Override
    public void scale(DeviceBuffer x, double alpha) {
        Buf b = f(x, 0, "x");
        countLaunch();
        for (int k = 0; k < b.length(); k++) {
            b.f[b.off() + k] *= alpha;
        }
    }

    @Override
    public void activationForward(Activation act, DeviceBuffer x, DeviceBuffer y) {
        Buf xb = f(x, 0, "x");
        Buf yb = f(y, xb.length(), "y");
        countLaunch();
        put(ReferenceOps.activation(act, get(xb, xb.length())), yb);
    }

    @Override
    public void activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz) {
        Buf zb = f(z, 0, "z");
        long n = zb.length();
        Buf dyb = f(dy, n, "dy");
        Buf dzb = f(dz, n, "dz");
        countLaunch();
        put(ReferenceOps.activationBackward(act, get(zb, n), get(dyb, n)), dzb);
    }

    @Override
    public void columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = f(out, cols, "out");
        countLaunch();
        put(ReferenceOps.columnSums(rows, cols, get(xb, (long) rows * cols)), ob);
    }

    @Override
    public void sum(DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, 0, "x");
        Buf ob = f(out, 1, "out");
        countLaunch();
        ob.f[ob.off()] = ReferenceOps.sum(get(xb, xb.length()));
    }

    @Override
    public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        long n = (long) rows * cols;
        Buf xb = f(x, n, "x");
        Buf yb = f(y, n, "y");
        countLaunch();
        put(ReferenceOps.softmax(rows, cols, get(xb, n)), yb);
    }

    @Override
    public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        long n = (long) rows * cols;
        Buf yb = f(y, n, "y");
        Buf dyb = f(dy, n, "dy");
        Buf dxb = f(dx, n, "dx");
        countLaunch();
        put(ReferenceOps.softmaxBackward(rows, cols, get(yb, n), get(dyb, n)), dxb);
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
        ReferenceOps.LossResult r = ReferenceOps.softmaxCrossEntropy(rows, cols, get(xb, n), ints(lb, rows), gradScale);
        put(r.rowLoss(), rb);
        put(r.grad(), db);
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
        ReferenceOps.LossResult r = ReferenceOps.meanSquaredError(rows, cols, get(pb, n), get(tb, n), gradScale);
        put(r.rowLoss(), rb);
        put(r.grad(), db);
    }

    /** Runs a declared op's float64 {@link dev.salvo.device.Op#reference reference}. */
    @Override
    public void run(OpCall call) {
        dev.salvo.device.Op op = call.op();
        dev.salvo.device.Op.RefArgs a = new dev.salvo.device.Op.RefArgs(op.bufferCount());
        for (int b = 0; b < op.bufferCount(); b++) {
            dev.salvo.device.Op.Param p = op.buffer(b);
            if (call.buffer(b) == null) { // an optional buffer the call does not use
                continue;
            }
            Buf x = p.kind().isIntBuffer() ? in(call.buffer(b), 0, p.name()) : f(call.buffer(b), 0, p.name());
            a.f[b] = x.f;
            a.i[b] = x.i;
            a.off[b] = x.off();
        }
        a.n = call.ints();
        a.r = call.reals();
        countLaunch();
        op.reference(a);
    }

    @Override
    public void argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        Buf xb = f(x, (long) rows * cols, "x");
        Buf ob = in(out, rows, "out");
        countLaunch();
        int[] r = ReferenceOps.argmax(rows, cols, get(xb, (long) rows * cols));
        System.arraycopy(r, 0, ob.i, ob.off(), rows);
    }

    @Override
    public void gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst) {
        Buf ib = in(index, rows, "index");
        Buf sb = arg(src, Buf.class, src.dtype(), 0, "src");
        Buf db = arg(dst, Buf.class, src.dtype(), (long) rows * cols, "dst");
        countLaunch();
        int srcRows = cols == 0 ? 0 : (int) (sb.length() / cols);
        for (int r = 0; r < rows; r++) {
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
    }

    @Override
    public void checkFinite(DeviceBuffer x, DeviceBuffer flag) {
        Buf xb = f(x, 0, "x");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (!ReferenceOps.allFinite(get(xb, xb.length()))) {
            fb.f[fb.off()] = Double.NaN;
        }
    }

    private static boolean skip(Buf flag) {
        return !Double.isFinite(flag.f[flag.off()]);
    }

    @Override
    public void sgdUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer flag) {
        Buf wb = f(w, 0, "w");
        long n = wb.length();
        Buf gb = f(g, n, "g");
        Buf vb = s.momentum() == 0 ? null : f(velocity, n, "velocity");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (skip(fb)) {
            return;
        }
        double[] wv = get(wb, n);
        double[] vv = vb == null ? null : get(vb, n);
        ReferenceOps.sgd(wv, get(gb, n), vv, s);
        put(wv, wb);
        if (vb != null) {
            put(vv, vb);
        }
    }

    @Override
    public void adamUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer flag) {
        Buf wb = f(w, 0, "w");
        long n = wb.length();
        Buf gb = f(g, n, "g");
        Buf mb = f(m, n, "m");
        Buf vb = f(v, n, "v");
        Buf fb = f(flag, 1, "flag");
        countLaunch();
        if (skip(fb)) {
            return;
        }
        double[] wv = get(wb, n);
        double[] mv = get(mb, n);
        double[] vv = get(vb, n);
        ReferenceOps.adam(wv, get(gb, n), mv, vv, s);
        put(wv, wb);
        put(mv, mb);
        put(vv, vb);
    }
}
