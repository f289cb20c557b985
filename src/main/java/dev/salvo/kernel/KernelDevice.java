package dev.salvo.kernel;

import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
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

    /**
     * True when matmul may run on tensor cores with TF32 operands ({@code matmul_tf32}, CUDA only,
     * off by default): {@link #launchTunables()} says so to the declaration
     * ({@link Op.Launch#tensorCores()}), which picks the variant; its error bound is
     * {@link dev.salvo.device.Tolerance#gemmTf32}.
     */
    protected boolean tensorCoreMatmul() {
        return false;
    }
}
