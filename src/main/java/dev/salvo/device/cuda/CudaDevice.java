package dev.salvo.device.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemAllocHost;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemFreeHost;
import static jcuda.driver.JCudaDriver.cuMemGetInfo;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoHAsync;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoDAsync;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

import dev.salvo.device.BaseBuffer;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceMemory;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.KernelFamilies;
import dev.salvo.kernel.TuningTable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;

/**
 * One CUDA device: the device's primary context (the one the CUDA runtime API, and so NCCL, uses),
 * one stream on which every copy and kernel is issued in order, the
 * modules compiled from {@code kernels/} by {@link CudaCompiler}, and buffers as
 * {@code CUdeviceptr} with element offsets passed to the kernels. Uploads go through a pinned
 * host arena and do not wait for the device (the arena waits only when it wraps around); a
 * download waits for the stream. A fault (illegal address, launch failure) marks the device
 * unusable: the error names the kernel last launched and the status, and every later call fails
 * fast with the same message. Devices opened on the same ordinal share the primary context (each
 * with its own stream, modules and buffers), so such a fault breaks that context for all of them;
 * it is released (and, when no one else holds it, destroyed) as each closes.
 */
public final class CudaDevice extends KernelDevice {

    /** A device pointer whose raw address can be read (JCuda keeps it protected). */
    static final class DevPtr extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    /** A stream whose raw handle can be read. */
    static final class Stream extends CUstream {
        long handle() {
            return getNativePointer();
        }
    }

    static final class Buf extends BaseBuffer {
        final DevPtr ptr;

        Buf(CudaDevice d, DType t, long n, DevPtr ptr) {
            super(d, t, n);
            this.ptr = ptr;
        }

        private Buf(Buf parent, long off, long len) {
            super(parent, off, len);
            this.ptr = parent.ptr;
        }

        @Override
        protected BaseBuffer newSlice(long off, long len) {
            return new Buf(this, off, len);
        }

        CUdeviceptr at() {
            return offset() == 0 ? ptr : ptr.withByteOffset(4 * offset());
        }
    }

    /** How each kernel family was obtained at open. */
    public record BuildReport(List<String> compilers, int fromCache, double seconds) {
    }

    private final DeviceInfo info;
    private final CudaSettings settings;
    private final CUcontext context = new CUcontext();
    private final CUdevice cuDevice = new CUdevice();
    private final int ordinal;
    private final Stream stream = new Stream();
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<String, CUfunction> functions = new HashMap<>();
    private final CUdeviceptr dummy = new CUdeviceptr();
    private Pointer pinned;
    private final List<Pointer> staging = new ArrayList<>();
    private final DeviceMemory memory = new Memory();
    private long pinnedSize;
    private long pinnedCursor;
    private String lastKernel = "(none)";
    private String broken;
    private final BuildReport buildReport;

    CudaDevice(CudaProvider.Found found) {
        this(found, null);
    }

    /** The device built with {@code tuning} in place of its tuning-table row (when not null). */
    CudaDevice(CudaProvider.Found found, TuningTable.Tuning tuning) {
        this.info = found.info();
        this.settings = CudaSettings.load(info.name(), tuning);
        this.ordinal = found.ordinal();
        Cu.check("cuDeviceGet", cuDeviceGet(cuDevice, ordinal));
        Cu.check("cuDevicePrimaryCtxRetain", cuDevicePrimaryCtxRetain(context, cuDevice));
        cuCtxSetCurrent(context);
        try {
            Cu.check("cuStreamCreate", cuStreamCreate(stream, 0));
            Cu.check("cuMemAlloc(dummy)", cuMemAlloc(dummy, 16));
            this.buildReport = build(found);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private BuildReport build(CudaProvider.Found found) {
        long t0 = System.nanoTime();
        CudaCompiler compiler = new CudaCompiler(settings, found.arch(), found.driverVersion());
        List<String> used = new ArrayList<>();
        int hits = 0;
        Map<String, List<String>> families = new java.util.LinkedHashMap<>(KernelFamilies.ALL);
        if (settings.tf32()) {
            if (found.major() < 8) {
                throw new DeviceException.Unavailable(info.id() + " (" + info.name() + ")", "native-config "
                        + CudaSettings.FILE + ": matmul.tf32=true needs tensor cores with TF32 (compute capability 8.0 or newer); this device is "
                        + found.major() + "." + found.minor());
            }
            families.putAll(KernelFamilies.CUDA_TENSOR_CORES);
        }
        for (Map.Entry<String, List<String>> fam : families.entrySet()) {
            String unit = CudaCompiler.unit(fam.getKey(), KernelFamilies.defines(fam.getKey(), tuning()));
            CudaCompiler.Image img = compiler.compile(fam.getKey(), unit);
            CUmodule module = new CUmodule();
            int r = cuModuleLoadData(module, img.data());
            if (r != CUresult.CUDA_SUCCESS) {
                throw new DeviceException.KernelCompile(fam.getKey(), info.id() + " (" + info.name() + ")",
                        "cuModuleLoadData of the " + (img.ptx() ? "PTX" : "cubin") + " from " + img.compiler() + " failed: "
                                + Cu.status(r) + (r == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                                ? " (the PTX is newer than this driver; use nvcc, which makes a cubin for " + found.arch() + ")" : ""));
            }
            modules.add(module);
            for (String k : fam.getValue()) {
                CUfunction f = new CUfunction();
                Cu.check("cuModuleGetFunction(" + k + ")", cuModuleGetFunction(f, module, k));
                functions.put(k, f);
            }
            used.add(fam.getKey() + ": " + img.compiler());
            hits += img.fromCache() ? 1 : 0;
        }
        return new BuildReport(used, hits, (System.nanoTime() - t0) / 1e9);
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    protected boolean tensorCoreMatmul() {
        return settings.tf32();
    }

    @Override
    public String precision() {
        return "float32";
    }

    public BuildReport buildReport() {
        return buildReport;
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        usable();
        long[] free = new long[1];
        long[] total = new long[1];
        Cu.check("cuMemGetInfo", cuMemGetInfo(free, total));
        return new long[] {free[0], total[0]};
    }

    private void usable() {
        ensureOpen();
        if (broken != null) {
            throw new IllegalStateException(info.id() + " is unusable after an earlier fault: " + broken);
        }
        cuCtxSetCurrent(context);
    }

    /** Checks a result; a sticky fault marks the device unusable. */
    private void check(String call, int result) {
        if (result != CUresult.CUDA_SUCCESS && Cu.sticky(result)) {
            broken = call + " (last kernel launched: " + lastKernel + "): " + Cu.status(result);
            throw new DeviceException.CallFailed(call + " after kernel " + lastKernel, Cu.status(result));
        }
        Cu.check(call, result);
    }

    // ---- memory ---------------------------------------------------------------------------

    @Override
    public DeviceBuffer allocFloat(long length) {
        return alloc(DType.FLOAT, length);
    }

    @Override
    public DeviceBuffer allocInt(long length) {
        return alloc(DType.INT, length);
    }

    private DeviceBuffer alloc(DType t, long length) {
        usable();
        if (length < 0 || length > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("buffer length " + length + " outside [0, 2^31)");
        }
        long bytes = 4 * Math.max(1, length);
        DevPtr p = new DevPtr();
        int r = cuMemAlloc(p, bytes);
        if (r == CUresult.CUDA_ERROR_OUT_OF_MEMORY) {
            long[] free = new long[1];
            long[] total = new long[1];
            cuMemGetInfo(free, total);
            throw new DeviceException.OutOfMemory(info.id(), bytes, free[0]);
        }
        check("cuMemAlloc", r);
        return register(new Buf(this, t, length, p));
    }

    @Override
    protected void free(BaseBuffer root) {
        cuCtxSetCurrent(context);
        cuMemFree(((Buf) root).ptr);
    }

    @Override
    protected void shutdown() {
        cuCtxSetCurrent(context);
        cuStreamSynchronize(stream);
        for (CUmodule m : modules) {
            cuModuleUnload(m);
        }
        modules.clear();
        functions.clear();
        cuMemFree(dummy);
        if (pinned != null) {
            cuMemFreeHost(pinned);
            pinned = null;
        }
        for (Pointer p : staging) {
            cuMemFreeHost(p);
        }
        staging.clear();
        cuStreamDestroy(stream);
        cuDevicePrimaryCtxRelease(cuDevice);
    }

    /** A region of the pinned arena for {@code bytes}; waits for the stream only when the arena wraps. */
    private long pinnedRegion(long bytes) {
        long need = (bytes + 255) / 256 * 256;
        if (pinned == null || need > pinnedSize) {
            check("cuStreamSynchronize", cuStreamSynchronize(stream));
            if (pinned != null) {
                cuMemFreeHost(pinned);
            }
            pinnedSize = Math.max(need * 4, 16L << 20);
            pinned = new Pointer();
            check("cuMemAllocHost", cuMemAllocHost(pinned, pinnedSize));
            pinnedCursor = 0;
        }
        if (pinnedCursor + need > pinnedSize) {
            check("cuStreamSynchronize", cuStreamSynchronize(stream));
            pinnedCursor = 0;
        }
        long at = pinnedCursor;
        pinnedCursor += need;
        return at;
    }

    private ByteBuffer pinnedView(long at, long bytes) {
        return pinned.getByteBuffer(at, bytes).order(ByteOrder.nativeOrder());
    }

    private Buf fb(DeviceBuffer b) {
        return arg(b, Buf.class, DType.FLOAT, 0, "buffer");
    }

    private Buf ib(DeviceBuffer b) {
        return arg(b, Buf.class, DType.INT, 0, "buffer");
    }

    private void uploadPinned(Buf d, long at, long bytes) {
        if (bytes > 0) {
            check("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync(d.at(), pinned.withByteOffset(at), bytes, stream));
        }
        countToDevice(bytes);
    }

    @Override
    public void upload(float[] src, DeviceBuffer dst) {
        usable();
        Buf d = fb(dst);
        checkHost(src.length, d.length(), "upload");
        long bytes = 4 * d.length();
        long at = pinnedRegion(bytes);
        pinnedView(at, bytes).asFloatBuffer().put(src, 0, (int) d.length());
        uploadPinned(d, at, bytes);
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        usable();
        Buf d = fb(dst);
        checkHost(src.length, d.length(), "upload");
        long bytes = 4 * d.length();
        long at = pinnedRegion(bytes);
        var fbuf = pinnedView(at, bytes).asFloatBuffer();
        for (int i = 0; i < d.length(); i++) {
            fbuf.put(i, (float) src[i]);
        }
        uploadPinned(d, at, bytes);
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        usable();
        Buf d = ib(dst);
        checkHost(src.length, d.length(), "upload");
        long bytes = 4 * d.length();
        long at = pinnedRegion(bytes);
        pinnedView(at, bytes).asIntBuffer().put(src, 0, (int) d.length());
        uploadPinned(d, at, bytes);
    }

    /** Copies {@code s} into the pinned arena and waits for it; returns the arena offset. */
    private long downloadPinned(Buf s) {
        long bytes = 4 * s.length();
        long at = pinnedRegion(bytes);
        if (bytes > 0) {
            check("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync(pinned.withByteOffset(at), s.at(), bytes, stream));
        }
        check("cuStreamSynchronize", cuStreamSynchronize(stream));
        countToHost(bytes);
        return at;
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        usable();
        Buf s = fb(src);
        checkHost(dst.length, s.length(), "download");
        long at = downloadPinned(s);
        pinnedView(at, 4 * s.length()).asFloatBuffer().get(dst, 0, (int) s.length());
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        usable();
        Buf s = fb(src);
        checkHost(dst.length, s.length(), "download");
        long at = downloadPinned(s);
        var f = pinnedView(at, 4 * s.length()).asFloatBuffer();
        for (int i = 0; i < s.length(); i++) {
            dst[i] = f.get(i);
        }
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        usable();
        Buf s = ib(src);
        checkHost(dst.length, s.length(), "download");
        long at = downloadPinned(s);
        pinnedView(at, 4 * s.length()).asIntBuffer().get(dst, 0, (int) s.length());
    }

    // ---- host staging and raw device memory -----------------------------------------------

    /** Page-locked ({@code cuMemAllocHost}), so copies run at full speed; freed when the device closes (do not touch it after). */
    @Override
    public FloatBuffer allocHostStaging(int floats) {
        usable();
        if (floats < 0) {
            throw new IllegalArgumentException("staging buffer of " + floats + " floats");
        }
        Pointer p = new Pointer();
        check("cuMemAllocHost", cuMemAllocHost(p, 4L * Math.max(1, floats)));
        staging.add(p);
        return p.getByteBuffer(0, 4L * Math.max(1, floats)).order(ByteOrder.nativeOrder()).asFloatBuffer().slice(0, floats);
    }

    /** True when the device can copy to or from {@code b}'s memory in place. */
    private static boolean inPlace(FloatBuffer b) {
        return b.isDirect() && b.order() == ByteOrder.nativeOrder();
    }

    /** Straight from device memory into a direct buffer (a staging buffer or any other); waits for the copy. */
    @Override
    public void download(DeviceBuffer src, FloatBuffer dst, int dstOffset) {
        usable();
        Buf s = fb(src);
        int n = (int) s.length();
        if (!inPlace(dst)) {
            float[] tmp = new float[n];
            download(src, tmp);
            dst.put(dstOffset, tmp);
            return;
        }
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        FloatBuffer view = dst.slice(dstOffset, n);
        if (n > 0) {
            check("cuMemcpyDtoHAsync", cuMemcpyDtoHAsync(Pointer.to(view), s.at(), 4L * n, stream));
        }
        check("cuStreamSynchronize", cuStreamSynchronize(stream));
        countToHost(4L * n);
    }

    /** Straight from a direct buffer into device memory; waits for the copy, so {@code src} may be reused at once. */
    @Override
    public void upload(FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        usable();
        Buf d = fb(dst);
        int n = (int) d.length();
        if (!inPlace(src)) {
            float[] tmp = new float[n];
            src.get(srcOffset, tmp);
            upload(tmp, dst);
            return;
        }
        FloatBuffer view = src.slice(srcOffset, n);
        if (n > 0) {
            check("cuMemcpyHtoDAsync", cuMemcpyHtoDAsync(d.at(), Pointer.to(view), 4L * n, stream));
            check("cuStreamSynchronize", cuStreamSynchronize(stream));
        }
        countToDevice(4L * n);
    }

    @Override
    public DeviceMemory deviceMemory() {
        return memory;
    }

    /** Raw pointers for NCCL; each call checks the device is usable and makes its context current. */
    private final class Memory implements DeviceMemory {
        @Override
        public long address(DeviceBuffer b) {
            usable();
            Buf x = arg(b, Buf.class, b == null ? DType.FLOAT : b.dtype(), 0, "buffer");
            return x.ptr.address() + 4 * x.offset();
        }

        @Override
        public long stream() {
            usable();
            return stream.handle();
        }

        @Override
        public int ordinal() {
            return ordinal;
        }

        @Override
        public void makeCurrent() {
            usable();
        }
    }

    @Override
    public void synchronize() {
        usable();
        check("cuStreamSynchronize", cuStreamSynchronize(stream));
    }

    // ---- launching ------------------------------------------------------------------------

    @Override
    protected Class<? extends BaseBuffer> bufferType() {
        return Buf.class;
    }

    @Override
    protected TuningTable.Tuning tuning() {
        return settings.tuning();
    }

    @Override
    protected void launch(String kernel, long[] global, long[] local, Object... args) {
        usable();
        CUfunction f = functions.get(kernel);
        List<Pointer> params = new ArrayList<>(args.length * 2);
        for (Object a : args) {
            if (a instanceof Buf b) {
                params.add(Pointer.to(b.ptr));
                params.add(Pointer.to(new int[] {(int) b.offset()}));
            } else if (a == null) {
                params.add(Pointer.to(dummy));
                params.add(Pointer.to(new int[] {0}));
            } else if (a instanceof Integer v) {
                params.add(Pointer.to(new int[] {v}));
            } else if (a instanceof Boolean v) {
                params.add(Pointer.to(new int[] {v ? 1 : 0}));
            } else if (a instanceof Double v) {
                params.add(Pointer.to(new float[] {v.floatValue()}));
            } else {
                throw new IllegalArgumentException("unsupported kernel argument " + a);
            }
        }
        int[] grid = new int[] {1, 1, 1};
        int[] block = new int[] {1, 1, 1};
        for (int d = 0; d < global.length; d++) {
            block[d] = (int) local[d];
            grid[d] = (int) ((global[d] + local[d] - 1) / local[d]);
        }
        lastKernel = kernel;
        countLaunch();
        check("cuLaunchKernel(" + kernel + ")", cuLaunchKernel(f, grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, stream,
                Pointer.to(params.toArray(new Pointer[0])), null));
        if (settings.syncEveryLaunch()) {
            check("cuStreamSynchronize", cuStreamSynchronize(stream));
        }
    }
}
