package dev.salvo.bench;

import dev.salvo.device.Counters;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceMemory;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;

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
        /** Every other op: activations, losses, column sums, optimizer updates, fill/copy, convolution copies... */
        ELEMENTWISE,
        /** Uploads and downloads (part of the host loop in the three-way split). */
        TRANSFER
    }

    /** The host copies, accounted beside the ops. */
    public enum Transfer {
        UPLOAD, DOWNLOAD;

        /** Lower-case name, as written in bench.json. */
        public String jsonName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Device inner;
    /** Per declared op: {nanos, calls}; filled on the op's first call (then a run allocates nothing). */
    private final java.util.Map<Op, long[]> accounts = new java.util.IdentityHashMap<>();
    private final long[] transferNanos = new long[2];
    private final long[] transferCalls = new long[2];
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
        accounts.clear();
        java.util.Arrays.fill(transferNanos, 0);
        java.util.Arrays.fill(transferCalls, 0);
        matmulFlops = 0;
    }

    /**
     * Floating-point operations of the matmuls since the last {@link #reset()}: {@link Op#flops} of
     * each call, which counts every entry of a batch ({@code 2 M N K batch}).
     */
    public double matmulFlops() {
        return matmulFlops;
    }

    /** The kind an op is accounted under. */
    public static Kind kind(Op op) {
        return op.family().equals("matmul") ? Kind.MATMUL : Kind.ELEMENTWISE;
    }

    /** Seconds spent in every op of {@code kind} since the last {@link #reset()}. */
    public double seconds(Kind kind) {
        long t = 0;
        if (kind == Kind.TRANSFER) {
            t = transferNanos[0] + transferNanos[1];
        } else {
            for (java.util.Map.Entry<Op, long[]> e : accounts.entrySet()) {
                if (kind(e.getKey()) == kind) {
                    t += e.getValue()[0];
                }
            }
        }
        return t / 1e9;
    }

    /** Seconds and calls of {@code op} (call plus synchronize) since the last {@link #reset()}: {@code {nanos, calls}}. */
    public long[] account(Op op) {
        long[] a = accounts.get(op);
        return a == null ? new long[2] : a.clone();
    }

    /** The ops called since the last {@link #reset()}. */
    public java.util.Set<Op> calledOps() {
        return java.util.Collections.unmodifiableSet(accounts.keySet());
    }

    /** Seconds of the host copies of one direction since the last {@link #reset()}. */
    public double seconds(Transfer t) {
        return transferNanos[t.ordinal()] / 1e9;
    }

    /** Host copies of one direction since the last {@link #reset()}. */
    public long calls(Transfer t) {
        return transferCalls[t.ordinal()];
    }

    @Override
    public void run(OpCall call) {
        long t = System.nanoTime();
        inner.run(call);
        inner.synchronize();
        long[] a = accounts.get(call.op());
        if (a == null) {
            a = new long[2];
            accounts.put(call.op(), a);
        }
        a[0] += System.nanoTime() - t;
        a[1]++;
        if (kind(call.op()) == Kind.MATMUL) {
            matmulFlops += call.op().flops(call.ints());
        }
    }

    private void end(Transfer op, long t0) {
        inner.synchronize();
        transferNanos[op.ordinal()] += System.nanoTime() - t0;
        transferCalls[op.ordinal()]++;
    }

    private static long start() {
        return System.nanoTime();
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
        end(Transfer.UPLOAD, t);
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, dst);
        end(Transfer.UPLOAD, t);
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, dst);
        end(Transfer.UPLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Transfer.DOWNLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Transfer.DOWNLOAD, t);
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        long t = start();
        inner.download(src, dst);
        end(Transfer.DOWNLOAD, t);
    }

    @Override
    public java.nio.FloatBuffer allocHostStaging(int floats) {
        return inner.allocHostStaging(floats);
    }

    @Override
    public void download(DeviceBuffer src, java.nio.FloatBuffer dst, int dstOffset) {
        long t = start();
        inner.download(src, dst, dstOffset);
        end(Transfer.DOWNLOAD, t);
    }

    @Override
    public void upload(java.nio.FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        long t = start();
        inner.upload(src, srcOffset, dst);
        end(Transfer.UPLOAD, t);
    }

    /** The inner device's: NCCL reduces its buffers (which are this device's buffers) in place. */
    @Override
    public DeviceMemory deviceMemory() {
        return inner.deviceMemory();
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
