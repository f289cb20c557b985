package dev.salvo.kernel;

import dev.salvo.device.Activation;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;

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

    private BaseBuffer fbuf(DeviceBuffer b, long n, String name) {
        return arg(b, bufferType(), DType.FLOAT, n, name);
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
        return tuning();
    }

    @Override
    public void matmul(Gemm g, DeviceBuffer a, DeviceBuffer b, DeviceBuffer bias, Activation act,
                       DeviceBuffer z, DeviceBuffer y) {
        if (y == null && act != Activation.IDENTITY) {
            throw new IllegalArgumentException("matmul: activation " + act + " needs an output y");
        }
        BaseBuffer ab = fbuf(a, g.aLength(), "a");
        BaseBuffer bb = fbuf(b, g.bLength(), "b");
        BaseBuffer biasb = bias == null ? null : fbuf(bias, g.n(), "bias");
        BaseBuffer zb = fbuf(z, g.cLength(), "z");
        BaseBuffer yb = y == null ? null : fbuf(y, g.cLength(), "y");
        if (g.m() == 0 || g.n() == 0 || g.batch() == 0) {
            return;
        }
        boolean plainShape = g.batch() == 1 && !g.accumulates();
        // matmul_tf32 computes one product without accumulation: batched or accumulating calls go to
        // the plain matmul kernel (float32 products, so within the tighter Tolerance#gemm bound)
        if (tensorCoreMatmul() && plainShape) {
            launch("matmul_tf32", new long[] {(g.n() + TF32_TILE - 1) / TF32_TILE * TF32_THREADS, (g.m() + TF32_TILE - 1) / TF32_TILE},
                    new long[] {TF32_THREADS, 1}, g.m(), g.n(), g.k(), g.transA(), g.transB(),
                    ab, bb, biasb, biasb != null, act.ordinal(), zb, yb, yb != null);
            return;
        }
        long[] global = matmulGlobal(tuning(), g);
        long[] local = matmulLocal(tuning());
        int batchStep = Math.min(g.batch(), MAX_BATCH_GROUPS);
        if (g.batch() > 1) {
            // the batch on the third dimension, one work-group deep; each group z loops over its entries
            global = new long[] {global[0], global[1], batchStep};
            local = new long[] {local[0], local[1], 1};
        }
        // strides of one-entry calls are never used: pass 0 so any value fits the kernel's int
        boolean many = g.batch() > 1;
        launch("matmul", global, local, g.m(), g.n(), g.k(), g.transA(), g.transB(),
                ab, bb, biasb, biasb != null, act.ordinal(), zb, yb, yb != null,
                g.batch(), batchStep, many ? stride(g.strideA(), "strideA") : 0, many ? stride(g.strideB(), "strideB") : 0,
                many ? stride(g.strideC(), "strideC") : 0, g.beta());
    }

    /** Work-groups along the batch dimension at most (CUDA's grid limit in z); more entries loop. */
    static final int MAX_BATCH_GROUPS = 65535;

    /** A stride as the kernel's 32-bit int; any stride of an accepted call fits (buffers hold at most 2^31-1 elements). */
    private static int stride(long s, String name) {
        if (s > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matmul: " + name + " " + s + " exceeds the kernels' 32-bit indices");
        }
        return (int) s;
    }

    /** Edge of matmul_tf32's square block tile and its threads per block (see matmul_tf32.kernel). */
    private static final int TF32_TILE = 128;
    private static final int TF32_THREADS = 256;

    /**
     * True when matmul runs on tensor cores with TF32 operands ({@code matmul_tf32}, CUDA only, off by
     * default); its error bound is {@link dev.salvo.device.Tolerance#gemmTf32}.
     */
    protected boolean tensorCoreMatmul() {
        return false;
    }

    /** The matmul work-group shape (see matmul.kernel). */
    public static long[] matmulLocal(TuningTable.Tuning t) {
        if (t.mmLocal() == 2) {
            return new long[] {16, 16};
        }
        return t.mmLocal() == 1 ? new long[] {t.tile(), t.tile()} : new long[] {t.mmWgx(), t.mmWgy()};
    }

    /** The matmul work-items, before rounding up to the work-group (see matmul.kernel). */
    public static long[] matmulGlobal(TuningTable.Tuning t, Gemm g) {
        if (t.mmLocal() == 2) { // 128 x 128 blocks of 16 x 16 items
            return new long[] {(g.n() + 127) / 128 * 16, (g.m() + 127) / 128 * 16};
        }
        if (t.mmLocal() == 1) {
            return new long[] {g.n(), g.m()};
        }
        boolean dot = !g.transA() && g.transB();
        long h = dot ? t.mmDotm() : t.mmWptm();
        long w = dot ? t.mmDotn() : t.mmWptn();
        long gx = (g.n() + t.mmWgx() * w - 1) / (t.mmWgx() * w);
        long gy = (g.m() + t.mmWgy() * h - 1) / (t.mmWgy() * h);
        return new long[] {gx * t.mmWgx(), gy * t.mmWgy()};
    }
}
