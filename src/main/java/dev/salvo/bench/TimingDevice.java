package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.device.Counters;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceInfo;

/**
 * A {@link Device} that forwards every call to another device and measures it: each op and each
 * host copy is followed by {@link Device#synchronize()} of the inner device, and the wall time of
 * call plus synchronize is added to the op's account. Since every call ends synchronized, an op's
 * account holds that op's device time (plus one synchronize), not the time of ops queued before it.
 *
 * <p>This changes what it measures (a real step overlaps host work with queued device work), so
 * {@code salvo bench} uses it only for a separate profiling pass whose shares it reports, never for
 * the timed epoch. Buffers are the inner device's own: {@link #allocFloat} returns the inner
 * buffer, so models and trainers built on this device run the inner device's code unchanged.
 * Accounting allocates nothing per call. {@link #close()} does not close the inner device.
 */
public final class TimingDevice implements Device {

    /** What a call is counted as. */
    public enum Kind {
        /** The matrix products: the declared ops of family {@code matmul}. */
        MATMUL,
        /** Every other op: activations, losses, column sums, optimizer updates, fill/copy, checks. */
        ELEMENTWISE,
        /** Uploads and downloads (part of the host loop in the three-way split). */
        TRANSFER
    }

    /** The calls this device accounts for, each with its kind. */
    public enum Op {
        MATMUL(Kind.MATMUL),
        SOFTMAX_FORWARD(Kind.ELEMENTWISE),
        SOFTMAX_BACKWARD(Kind.ELEMENTWISE),
        SOFTMAX_CROSS_ENTROPY(Kind.ELEMENTWISE),
        MEAN_SQUARED_ERROR(Kind.ELEMENTWISE),
        ARGMAX(Kind.ELEMENTWISE),
        GATHER_ROWS(Kind.ELEMENTWISE),
        SGD_UPDATE(Kind.ELEMENTWISE),
        ADAM_UPDATE(Kind.ELEMENTWISE),
        UPLOAD(Kind.TRANSFER),
        DOWNLOAD(Kind.TRANSFER);

        public final Kind kind;

        Op(Kind kind) {
            this.kind = kind;
        }

        /** Lower-case name with dashes, as written in bench.json. */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    private static final Op[] OPS = Op.values();

    private final Device inner;
    private final long[] nanos = new long[OPS.length];
    private final long[] calls = new long[OPS.length];
    private double matmulFlops;

    public TimingDevice(Device inner) {
        if (inner == null) {
            throw new IllegalArgumentException("inner device is null");
        }
        this.inner = inner;
    }

    /** The device every call goes to. */
    public Device inner() {
        return inner;
    }

    /** Forgets every account (call before the interval to measure). */
    public void reset() {
        java.util.Arrays.fill(nanos, 0);
        java.util.Arrays.fill(calls, 0);
        declared.clear();
        matmulFlops = 0;
    }

    /**
     * Floating-point operations of the matmuls since the last {@link #reset()}: {@link dev.salvo.device.Op#flops}
     * of each call, which counts every entry of a batch ({@code 2 M N K batch}).
     */
    public double matmulFlops() {
        return matmulFlops;
    }

    /** Seconds spent in {@code op} (call plus synchronize) since the last {@link #reset()}. */
    public double seconds(Op op) {
        return nanos[op.ordinal()] / 1e9;
    }

    /** Calls of {@code op} since the last {@link #reset()}. */
    public long calls(Op op) {
        return calls[op.ordinal()];
    }

    /** Seconds spent in every op of {@code kind} since the last {@link #reset()}. */
    public double seconds(Kind kind) {
        long t = 0;
        for (Op op : OPS) {
            if (op.kind == kind) {
                t += nanos[op.ordinal()];
            }
        }
        if (kind == Kind.ELEMENTWISE) { // declared ops: convolution copies, pooling, normalization...
            for (long[] a : declared.values()) {
                t += a[0];
            }
        }
        return t / 1e9;
    }

    private final java.util.Map<dev.salvo.device.Op, long[]> declared = new java.util.IdentityHashMap<>();

    /**
     * Seconds and calls of a declared op since the last {@link #reset()}: {@code {nanos, calls}};
     * zeros for the ones counted under an {@link Op} of their own (softmax, losses, argmax, gather, updates).
     */
    public long[] account(dev.salvo.device.Op op) {
        long[] a = declared.get(op);
        return a == null ? new long[2] : a.clone();
    }

    /** The declared ops called since the last {@link #reset()}. */
    public java.util.Set<dev.salvo.device.Op> declaredOps() {
        return java.util.Collections.unmodifiableSet(declared.keySet());
    }

    @Override
    public void run(dev.salvo.device.OpCall call) {
        long t = start();
        inner.run(call);
        if (call.op().family().equals("matmul")) { // the matrix products: their own kind and flops
            end(Op.MATMUL, t);
            matmulFlops += call.op().flops(call.ints());
            return;
        }
        Op named = named(call.op());
        if (named != null) {
            end(named, t);
            return;
        }
        inner.synchronize();
        long[] a = declared.get(call.op());
        if (a == null) {
            a = new long[2];
            declared.put(call.op(), a);
        }
        a[0] += System.nanoTime() - t;
        a[1]++;
    }

    /**
     * The account of a declared op that profiles have always listed under its own name (bench.json's
     * {@code softmax-cross-entropy}, {@code gather-rows}, {@code adam-update}...), or null for one
     * accounted as a declared op ({@link #account}).
     */
    private static Op named(dev.salvo.device.Op op) {
        return switch (op.name()) {
            case "softmax_forward" -> Op.SOFTMAX_FORWARD;
            case "softmax_backward" -> Op.SOFTMAX_BACKWARD;
            case "softmax_xent" -> Op.SOFTMAX_CROSS_ENTROPY;
            case "mse" -> Op.MEAN_SQUARED_ERROR;
            case "argmax_rows" -> Op.ARGMAX;
            case "gather_rows_f", "gather_rows_i" -> Op.GATHER_ROWS;
            case "sgd_update" -> Op.SGD_UPDATE;
            case "adam_update" -> Op.ADAM_UPDATE;
            default -> null;
        };
    }

    private long start() {
        return System.nanoTime();
    }

    private void end(Op op, long t0) {
        inner.synchronize();
        nanos[op.ordinal()] += System.nanoTime() - t0;
        calls[op.ordinal()]++;
    }

    @Override
    public DeviceInfo info() {
        return inner.info();
    }

    @Override
    public String precision() {
        return inner.precision();
    }

    @Override
    public DeviceBuffer allocFloat(long length) {
        return inner.allocFloat(length);
    }

    @Override
    public DeviceBuffer allocInt(long length) {
        return inner.allocInt(length);
    }

    @Override
    public void upload(float[] src, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, dst);
        end(Op.UPLOAD, t);
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, dst);
        end(Op.UPLOAD, t);
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, dst);
        end(Op.UPLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Op.DOWNLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Op.DOWNLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Op.DOWNLOAD, t);
    }

    @Override
    public void synchronize() {
        inner.synchronize();
    }

    @Override
    public Counters counters() {
        return inner.counters();
    }

    /** Does nothing: the inner device belongs to whoever opened it. */
    @Override
    public void close() {
    }
}
