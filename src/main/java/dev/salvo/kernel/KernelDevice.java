package dev.salvo.kernel;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.SgdStep;

/**
 * The op set of a device that runs the shared kernels of {@code kernels/} ({@link KernelFamilies}):
 * every op is argument checks plus one kernel launch. A provider supplies memory, copies and
 * {@link #launch}; the ops, their shapes and launch geometry are written once, here, for OpenCL and
 * CUDA alike.
 *
 * <p>Kernel arguments: a buffer is passed as its device pointer followed by its element offset;
 * {@code null} as a small dummy buffer with offset 0; {@link Integer} and {@link Boolean} as a
 * 32-bit int; {@link Double} as a float.
 */
public abstract class KernelDevice extends BaseDevice {

    /** The provider's buffer class. */
    protected abstract Class<? extends BaseBuffer> bufferType();

    /** Enqueues {@code kernel} over {@code global} work-items in one to three dimensions (rounded up to multiples of {@code local}). */
    protected abstract void launch(String kernel, long[] global, long[] local, Object... args);

    /** The launch shapes and tunables the kernels were built with. */
    protected abstract TuningTable.Tuning tuning();

    /** The tunables this device's kernels were built with and the table row they came from. */
    public final TuningTable.Tuning tuningInUse() {
        return tuning();
    }

    private int wgElementwise() {
        return tuning().wgElementwise();
    }

    private int wgRows() {
        return tuning().wgRows();
    }

    private int sumWg() {
        return tuning().sumWg();
    }

    private BaseBuffer fbuf(DeviceBuffer b, long n, String name) {
        return arg(b, bufferType(), DType.FLOAT, n, name);
    }

    private BaseBuffer ibuf(DeviceBuffer b, long n, String name) {
        return arg(b, bufferType(), DType.INT, n, name);
    }

    private void launch1(String name, long n, int wg, Object... args) {
        if (n > 0) {
            launch(name, new long[] {n}, new long[] {wg}, args);
        }
    }

    /** Work-items for {@code n} elements (or rows) taken {@code per} to an item. */
    private static long perItem(long n, int per) {
        return (n + per - 1) / per;
    }

    // ---- ops ------------------------------------------------------------------------------

    /**
     * A declared op: its kernel {@code op.name()} of {@code kernels/<family>.kernel}, the arguments
     * in declaration order (a buffer as pointer plus element offset, a real as a float), over
     * {@link Op#global} work-items in work-groups of {@link Op#local}.
     */
    @Override
    public void run(OpCall call) {
        Op op = call.op();
        int[] n = call.ints();
        Op.Launch t = launchTunables();
        Object[] args = new Object[op.params().size()];
        int k = 0;
        for (Op.Param p : op.params()) {
            switch (p.kind()) {
                case INT -> args[k++] = n[p.slot()];
                case REAL -> args[k++] = call.realArg(p.slot());
                default -> {
                    DeviceBuffer b = call.buffer(p.slot());
                    // an optional buffer the call does not use goes as the provider's dummy buffer
                    args[k++] = b == null ? null : arg(b, bufferType(), p.kind().isIntBuffer() ? DType.INT : DType.FLOAT, 0, p.name());
                }
            }
        }
        long[] global = op.global(n, t);
        for (long g : global) {
            if (g == 0) {
                return;
            }
        }
        launch(op.entry(n, t), global, op.local(n, t), args);
    }

    /** The tunables declared ops launch with: the tuning row, and tensor cores when {@link #tensorCoreMatmul()}. */
    protected Op.Launch launchTunables() {
        TuningTable.Tuning t = tuning();
        if (!tensorCoreMatmul()) {
            return t;
        }
        if (tensorCoreRow != t) {
            tensorCoreLaunch = t.withTensorCores(); // made once: a run allocates nothing
            tensorCoreRow = t;
        }
        return tensorCoreLaunch;
    }

    private Op.Launch tensorCoreLaunch;
    private TuningTable.Tuning tensorCoreRow;

    @Override
    public void fill(DeviceBuffer x, double value) {
        BaseBuffer b = fbuf(x, 0, "x");
        launch1("fill", b.length(), wgElementwise(), (int) b.length(), b, value);
    }

    @Override
    public void copy(DeviceBuffer src, DeviceBuffer dst) {
        BaseBuffer s = fbuf(src, 0, "src");
        BaseBuffer d = fbuf(dst, s.length(), "dst");
        launch1("copy_f", s.length(), wgElementwise(), (int) s.length(), s, d);
    }

    @Override
    public void scale(DeviceBuffer x, double alpha) {
        BaseBuffer b = fbuf(x, 0, "x");
        launch1("scale", b.length(), wgElementwise(), (int) b.length(), b, alpha);
    }

    @Override
    public void activationForward(Activation act, DeviceBuffer x, DeviceBuffer y) {
        BaseBuffer xb = fbuf(x, 0, "x");
        BaseBuffer yb = fbuf(y, xb.length(), "y");
        launch1("act_forward", perItem(xb.length(), tuning().ewVw()), wgElementwise(), (int) xb.length(), act.ordinal(), xb, yb);
    }

    @Override
    public void activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz) {
        BaseBuffer zb = fbuf(z, 0, "z");
        long n = zb.length();
        BaseBuffer dyb = fbuf(dy, n, "dy");
        BaseBuffer dzb = fbuf(dz, n, "dz");
        launch1("act_backward", perItem(n, tuning().ewVw()), wgElementwise(), (int) n, act.ordinal(), zb, dyb, dzb);
    }

    /**
     * True when matmul may run on tensor cores with TF32 operands ({@code matmul_tf32}, CUDA only,
     * off by default): {@link #launchTunables()} says so to the declaration
     * ({@link Op.Launch#tensorCores()}), which picks the variant; its error bound is
     * {@link dev.salvo.device.Tolerance#gemmTf32}.
     */
    protected boolean tensorCoreMatmul() {
        return false;
    }

    @Override
    public void columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        BaseBuffer xb = fbuf(x, (long) rows * cols, "x");
        BaseBuffer ob = fbuf(out, cols, "out");
        int vw = tuning().colsumVw();
        launch1("column_sums", (cols + vw - 1) / vw, wgRows(), rows, cols, xb, ob);
    }

    @Override
    public void sum(DeviceBuffer x, DeviceBuffer out) {
        BaseBuffer xb = fbuf(x, 0, "x");
        BaseBuffer ob = fbuf(out, 1, "out");
        launch("sum_all", new long[] {sumWg()}, new long[] {sumWg()}, (int) xb.length(), xb, ob);
    }

    @Override
    public void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y) {
        long n = (long) rows * cols;
        BaseBuffer xb = fbuf(x, n, "x");
        BaseBuffer yb = fbuf(y, n, "y");
        launch1("softmax_forward", rows, wgRows(), rows, cols, xb, yb);
    }

    @Override
    public void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx) {
        long n = (long) rows * cols;
        BaseBuffer yb = fbuf(y, n, "y");
        BaseBuffer dyb = fbuf(dy, n, "dy");
        BaseBuffer dxb = fbuf(dx, n, "dx");
        launch1("softmax_backward", rows, wgRows(), rows, cols, yb, dyb, dxb);
    }

    @Override
    public void softmaxCrossEntropy(int rows, int cols, DeviceBuffer logits, DeviceBuffer labels,
                                    double gradScale, DeviceBuffer rowLoss, DeviceBuffer dlogits) {
        long n = (long) rows * cols;
        BaseBuffer xb = fbuf(logits, n, "logits");
        BaseBuffer lb = ibuf(labels, rows, "labels");
        BaseBuffer rb = fbuf(rowLoss, rows, "rowLoss");
        BaseBuffer db = fbuf(dlogits, n, "dlogits");
        launch1("softmax_xent", perItem(rows, tuning().ewVw()), wgRows(), rows, cols, xb, lb, gradScale, rb, db);
    }

    @Override
    public void meanSquaredError(int rows, int cols, DeviceBuffer pred, DeviceBuffer target,
                                 double gradScale, DeviceBuffer rowLoss, DeviceBuffer dpred) {
        long n = (long) rows * cols;
        BaseBuffer pb = fbuf(pred, n, "pred");
        BaseBuffer tb = fbuf(target, n, "target");
        BaseBuffer rb = fbuf(rowLoss, rows, "rowLoss");
        BaseBuffer db = fbuf(dpred, n, "dpred");
        launch1("mse", rows, wgRows(), rows, cols, pb, tb, gradScale, rb, db);
    }

    @Override
    public void argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out) {
        BaseBuffer xb = fbuf(x, (long) rows * cols, "x");
        BaseBuffer ob = ibuf(out, rows, "out");
        launch1("argmax_rows", rows, wgRows(), rows, cols, xb, ob);
    }

    @Override
    public void gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst) {
        BaseBuffer ib = ibuf(index, rows, "index");
        BaseBuffer sb = arg(src, bufferType(), src.dtype(), 0, "src");
        BaseBuffer db = arg(dst, bufferType(), src.dtype(), (long) rows * cols, "dst");
        int srcRows = cols == 0 ? 0 : (int) (sb.length() / cols);
        launch1(sb.dtype() == DType.FLOAT ? "gather_rows_f" : "gather_rows_i", (long) rows * cols, wgElementwise(),
                rows, cols, srcRows, sb, ib, db);
    }

    @Override
    public void checkFinite(DeviceBuffer x, DeviceBuffer flag) {
        BaseBuffer xb = fbuf(x, 0, "x");
        BaseBuffer fb = fbuf(flag, 1, "flag");
        launch1("check_finite", xb.length(), wgElementwise(), (int) xb.length(), xb, fb);
    }

    @Override
    public void sgdUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer flag) {
        BaseBuffer wb = fbuf(w, 0, "w");
        long n = wb.length();
        BaseBuffer gb = fbuf(g, n, "g");
        BaseBuffer vb = s.momentum() == 0 ? null : fbuf(velocity, n, "velocity");
        BaseBuffer fb = fbuf(flag, 1, "flag");
        launch1("sgd_update", n, wgElementwise(), (int) n, wb, gb, vb, vb != null, s.lr(), s.momentum(), s.nesterov(),
                s.weightDecay(), fb);
    }

    @Override
    public void adamUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer flag) {
        BaseBuffer wb = fbuf(w, 0, "w");
        long n = wb.length();
        BaseBuffer gb = fbuf(g, n, "g");
        BaseBuffer mb = fbuf(m, n, "m");
        BaseBuffer vb = fbuf(v, n, "v");
        BaseBuffer fb = fbuf(flag, 1, "flag");
        launch1("adam_update", n, wgElementwise(), (int) n, wb, gb, mb, vb, s.beta1(), 1 - s.beta1(), s.beta2(),
                1 - s.beta2(), s.eps(), s.weightDecay(), s.decoupled(), 1 - s.lr() * s.weightDecay(),
                s.lr() / s.biasCorrection1(), Math.sqrt(s.biasCorrection2()), fb);
    }
}
