package dev.salvo.device.cpu;

import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.OpCall;
import dev.salvo.device.ReferenceOps;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.Arrays;
import java.util.Objects;

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

    /** Rounds each float64 element to float32 straight into {@code dst}. */
    @Override
    public void download(DeviceBuffer src, FloatBuffer dst, int dstOffset) {
        Buf s = f(src, 0, "src");
        int n = (int) s.length();
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        Objects.checkFromIndexSize(dstOffset, n, dst.limit());
        for (int k = 0; k < n; k++) {
            dst.put(dstOffset + k, (float) s.f[s.off() + k]);
        }
        countToHost(4L * n);
    }

    @Override
    public void upload(FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        int n = (int) d.length();
        Objects.checkFromIndexSize(srcOffset, n, src.limit());
        for (int k = 0; k < n; k++) {
            d.f[d.off() + k] = src.get(srcOffset + k);
        }
        countToDevice(4L * n);
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
}
