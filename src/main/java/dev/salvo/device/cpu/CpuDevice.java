package dev.salvo.device.cpu;

import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.OpCall;

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

    private final DeviceInfo info;
    private final CpuPool pool;
    private final CpuOps ops;
    private final CpuGemm gemm;

    CpuDevice(DeviceInfo info, CpuSettings settings) {
        this.info = info;
        this.pool = new CpuPool(settings.threads());
        boolean vector = settings.simd() && CpuGemm.vectorApiAvailable();
        this.gemm = new CpuGemm(pool, settings.mc(), settings.kc(), settings.nc(), settings.simd());
        this.ops = new CpuOps(pool, vector, gemm);
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
    public void download(DeviceBuffer src, java.nio.FloatBuffer dst, int dstOffset) {
        Buf s = f(src, 0, "src");
        dst.put(dstOffset, s.f, s.off(), s.n());
        countToHost(4L * s.n());
    }

    @Override
    public void upload(java.nio.FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        src.get(srcOffset, d.f, d.off(), d.n());
        countToDevice(4L * d.n());
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

}
