package dev.salvo.device.opencl;

import static org.jocl.CL.*;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.BaseBuffer;
import dev.salvo.device.BaseDevice;
import dev.salvo.device.DType;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.Gemm;
import dev.salvo.device.SgdStep;
import dev.salvo.kernel.CompileCache;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.KernelFamilies;
import dev.salvo.kernel.KernelSource;
import dev.salvo.kernel.TuningTable;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_program;

/**
 * One OpenCL device: a context, an in-order queue, the programs built from {@code kernels/}
 * (cached as binaries), and buffers as {@code cl_mem} with element offsets passed to every kernel.
 * Copies are blocking; kernels run in issue order. Reductions have a fixed order and no atomics,
 * so the same inputs give bitwise identical results.
 */
public final class OpenClDevice extends KernelDevice {

    static final class Buf extends BaseBuffer {
        final cl_mem mem;

        Buf(OpenClDevice d, DType t, long n, cl_mem mem) {
            super(d, t, n);
            this.mem = mem;
        }

        private Buf(Buf parent, long off, long len) {
            super(parent, off, len);
            this.mem = parent.mem;
        }

        @Override
        protected BaseBuffer newSlice(long off, long len) {
            return new Buf(this, off, len);
        }

        int off() {
            return (int) offset();
        }
    }

    /** Build statistics of this device's programs. */
    public record BuildReport(int programs, int fromCache, double seconds) {
    }

    private final DeviceInfo info;
    private final cl_device_id device;
    private final cl_context context;
    private final cl_command_queue queue;
    private final OpenClSettings settings;
    private final List<cl_program> programs = new ArrayList<>();
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    private final cl_mem dummy;
    private final long maxAlloc;
    private final BuildReport buildReport;

    OpenClDevice(OpenClProvider.Found found) {
        this(found, null);
    }

    /** The device built with {@code tuning} in place of its tuning-table row (when not null). */
    OpenClDevice(OpenClProvider.Found found, TuningTable.Tuning tuning) {
        this.info = found.info();
        this.device = found.device();
        this.settings = OpenClSettings.load(info.name(), tuning);
        long maxWg = Cl.deviceLong(device, CL_DEVICE_MAX_WORK_GROUP_SIZE);
        if (settings.tuning().maxWorkGroup() > maxWg) {
            throw new IllegalArgumentException("tuning row '" + settings.tuningRow() + "' launches work-groups of "
                    + settings.tuning().maxWorkGroup() + " items; " + info.name() + " allows at most " + maxWg
                    + " (CL_DEVICE_MAX_WORK_GROUP_SIZE)");
        }
        int[] err = new int[1];
        cl_context ctx = clCreateContext(null, 1, new cl_device_id[] {device}, null, null, err);
        Cl.check("clCreateContext", err[0]);
        this.context = ctx;
        cl_command_queue q = null;
        cl_mem d = null;
        try {
            @SuppressWarnings("deprecation")
            cl_command_queue created = clCreateCommandQueue(context, device, 0, err);
            q = created;
            Cl.check("clCreateCommandQueue", err[0]);
            d = clCreateBuffer(context, CL_MEM_READ_WRITE, 16, null, err);
            Cl.check("clCreateBuffer", err[0]);
            this.maxAlloc = Cl.deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE);
        } catch (RuntimeException e) {
            if (d != null) {
                clReleaseMemObject(d);
            }
            if (q != null) {
                clReleaseCommandQueue(q);
            }
            clReleaseContext(ctx);
            throw e;
        }
        this.queue = q;
        this.dummy = d;
        try {
            this.buildReport = buildAll();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    @Override
    public DeviceInfo info() {
        return info;
    }

    @Override
    public String precision() {
        return "float32";
    }

    /** How the programs were built at open (cold compile or from the binary cache) and how long it took. */
    public BuildReport buildReport() {
        return buildReport;
    }

    /** The tuning-table row in use. */
    public String tuningRow() {
        return settings.tuningRow();
    }

    // ---- programs -------------------------------------------------------------------------

    private BuildReport buildAll() {
        long t0 = System.nanoTime();
        CompileCache cache = new CompileCache("opencl");
        String driver = info.details();
        int hits = 0;
        for (Map.Entry<String, List<String>> fam : KernelFamilies.ALL.entrySet()) {
            String src = KernelSource.unit("prelude-opencl.h", fam.getKey(), KernelFamilies.defines(fam.getKey(), settings.tuning()));
            String key = CompileCache.key(src, settings.buildOptions(), info.name(), driver);
            cl_program program = null;
            if (settings.cache()) {
                byte[] bin = cache.get(key, ".clbin");
                if (bin != null) {
                    program = fromBinary(bin);
                    if (program != null) {
                        hits++;
                    }
                }
            }
            if (program == null) {
                program = fromSource(fam.getKey(), src);
                if (settings.cache()) {
                    byte[] bin = binary(program);
                    if (bin != null) {
                        cache.put(key, ".clbin", bin);
                    }
                }
            }
            programs.add(program);
            int[] err = new int[1];
            for (String k : fam.getValue()) {
                cl_kernel kernel = clCreateKernel(program, k, err);
                Cl.check("clCreateKernel(" + k + ") from " + fam.getKey(), err[0]);
                kernels.put(k, kernel);
            }
        }
        return new BuildReport(KernelFamilies.ALL.size(), hits, (System.nanoTime() - t0) / 1e9);
    }

    private cl_program fromSource(String file, String src) {
        int[] err = new int[1];
        cl_program program = clCreateProgramWithSource(context, 1, new String[] {src}, null, err);
        Cl.check("clCreateProgramWithSource(" + file + ")", err[0]);
        int status = clBuildProgram(program, 1, new cl_device_id[] {device}, settings.buildOptions(), null, null);
        if (status != CL_SUCCESS) {
            String log = Cl.buildLog(program, device);
            clReleaseProgram(program);
            throw new DeviceException.KernelCompile(KernelSource.locate(file), info.id() + " (" + info.name() + ")",
                    "clBuildProgram: " + Cl.status(status) + ", options '" + settings.buildOptions() + "'\n" + log);
        }
        return program;
    }

    /** A program from a cached binary, or null when the driver rejects it (then it is rebuilt from source). */
    private cl_program fromBinary(byte[] bin) {
        int[] err = new int[1];
        int[] binStatus = new int[1];
        cl_program program = clCreateProgramWithBinary(context, 1, new cl_device_id[] {device}, new long[] {bin.length},
                new byte[][] {bin}, binStatus, err);
        if (err[0] != CL_SUCCESS || binStatus[0] != CL_SUCCESS) {
            if (program != null && err[0] == CL_SUCCESS) {
                clReleaseProgram(program);
            }
            return null;
        }
        if (clBuildProgram(program, 1, new cl_device_id[] {device}, settings.buildOptions(), null, null) != CL_SUCCESS) {
            clReleaseProgram(program);
            return null;
        }
        return program;
    }

    private static byte[] binary(cl_program program) {
        long[] size = new long[1];
        if (clGetProgramInfo(program, CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(size), null) != CL_SUCCESS
                || size[0] <= 0) {
            return null;
        }
        byte[] bin = new byte[(int) size[0]];
        Pointer p = Pointer.to(bin);
        if (clGetProgramInfo(program, CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(p), null) != CL_SUCCESS) {
            return null;
        }
        return bin;
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
        ensureOpen();
        if (length < 0) {
            throw new IllegalArgumentException("negative buffer length " + length);
        }
        long bytes = 4 * Math.max(1, length);
        long free = info.memoryBytes() - counters().liveBytes();
        if (bytes > maxAlloc || bytes > free || length > Integer.MAX_VALUE) {
            throw new DeviceException.OutOfMemory(info.id(), bytes, Math.max(0, Math.min(free, maxAlloc)));
        }
        int[] err = new int[1];
        cl_mem mem = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, err);
        if (err[0] == CL_MEM_OBJECT_ALLOCATION_FAILURE || err[0] == CL_OUT_OF_RESOURCES || err[0] == CL_OUT_OF_HOST_MEMORY
                || err[0] == CL_INVALID_BUFFER_SIZE) {
            throw new DeviceException.OutOfMemory(info.id(), bytes, Math.max(0, free));
        }
        Cl.check("clCreateBuffer", err[0]);
        return register(new Buf(this, t, length, mem));
    }

    @Override
    protected void free(BaseBuffer root) {
        clReleaseMemObject(((Buf) root).mem);
    }

    @Override
    protected void shutdown() {
        for (cl_kernel k : kernels.values()) {
            clReleaseKernel(k);
        }
        kernels.clear();
        for (cl_program p : programs) {
            clReleaseProgram(p);
        }
        programs.clear();
        if (dummy != null) {
            clReleaseMemObject(dummy);
        }
        if (queue != null) {
            clFinish(queue);
            clReleaseCommandQueue(queue);
        }
        clReleaseContext(context);
    }

    private Buf f(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.FLOAT, n, name);
    }

    private Buf in(DeviceBuffer b, long n, String name) {
        return arg(b, Buf.class, DType.INT, n, name);
    }

    private void write(Buf d, Pointer src, long bytes) {
        if (bytes > 0) {
            Cl.check("clEnqueueWriteBuffer", clEnqueueWriteBuffer(queue, d.mem, CL_TRUE, 4L * d.offset(), bytes, src, 0, null, null));
        }
        countToDevice(bytes);
    }

    private void read(Buf s, Pointer dst, long bytes) {
        if (bytes > 0) {
            Cl.check("clEnqueueReadBuffer", clEnqueueReadBuffer(queue, s.mem, CL_TRUE, 4L * s.offset(), bytes, dst, 0, null, null));
        }
        countToHost(bytes);
    }

    @Override
    public void upload(float[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        write(d, Pointer.to(src), 4 * d.length());
    }

    @Override
    public void upload(double[] src, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        float[] tmp = new float[(int) d.length()];
        for (int i = 0; i < tmp.length; i++) {
            tmp[i] = (float) src[i];
        }
        write(d, Pointer.to(tmp), 4 * d.length());
    }

    @Override
    public void upload(int[] src, DeviceBuffer dst) {
        Buf d = in(dst, 0, "dst");
        checkHost(src.length, d.length(), "upload");
        write(d, Pointer.to(src), 4 * d.length());
    }

    @Override
    public void download(DeviceBuffer src, float[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        read(s, Pointer.to(dst), 4 * s.length());
    }

    @Override
    public void download(DeviceBuffer src, double[] dst) {
        Buf s = f(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        float[] tmp = new float[(int) s.length()];
        read(s, Pointer.to(tmp), 4 * s.length());
        for (int i = 0; i < tmp.length; i++) {
            dst[i] = tmp[i];
        }
    }

    @Override
    public void download(DeviceBuffer src, int[] dst) {
        Buf s = in(src, 0, "src");
        checkHost(dst.length, s.length(), "download");
        read(s, Pointer.to(dst), 4 * s.length());
    }

    /** Straight into a direct native-order buffer (a blocking read into its memory); others through an array. */
    @Override
    public void download(DeviceBuffer src, FloatBuffer dst, int dstOffset) {
        Buf s = f(src, 0, "src");
        int n = (int) s.length();
        if (!dst.isDirect() || dst.order() != ByteOrder.nativeOrder()) {
            float[] tmp = new float[n];
            download(src, tmp);
            dst.put(dstOffset, tmp);
            return;
        }
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        read(s, Pointer.to(dst.slice(dstOffset, n)), 4L * n);
    }

    /** Straight from a direct native-order buffer (a blocking write from its memory); others through an array. */
    @Override
    public void upload(FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        Buf d = f(dst, 0, "dst");
        int n = (int) d.length();
        if (!src.isDirect() || src.order() != ByteOrder.nativeOrder()) {
            float[] tmp = new float[n];
            src.get(srcOffset, tmp);
            upload(tmp, dst);
            return;
        }
        write(d, Pointer.to(src.slice(srcOffset, n)), 4L * n);
    }

    @Override
    public void synchronize() {
        ensureOpen();
        Cl.check("clFinish", clFinish(queue));
    }

    @Override
    protected Class<? extends BaseBuffer> bufferType() {
        return Buf.class;
    }

    @Override
    protected TuningTable.Tuning tuning() {
        return settings.tuning();
    }

    // ---- launching ------------------------------------------------------------------------

    /**
     * Sets the arguments (a {@link Buf} is passed as its {@code cl_mem} followed by its element
     * offset; null as the 16-byte dummy buffer with offset 0) and enqueues {@code name} over
     * {@code global} items rounded up to {@code local}.
     */
    @Override
    protected void launch(String name, long[] global, long[] local, Object... args) {
        cl_kernel k = kernels.get(name);
        int i = 0;
        for (Object a : args) {
            int s;
            if (a instanceof Buf b) {
                s = clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(b.mem));
                if (s == CL_SUCCESS) {
                    s = clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {b.off()}));
                }
            } else if (a == null) {
                s = clSetKernelArg(k, i++, Sizeof.cl_mem, Pointer.to(dummy));
                if (s == CL_SUCCESS) {
                    s = clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {0}));
                }
            } else if (a instanceof Integer v) {
                s = clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v}));
            } else if (a instanceof Boolean v) {
                s = clSetKernelArg(k, i++, Sizeof.cl_int, Pointer.to(new int[] {v ? 1 : 0}));
            } else if (a instanceof Double v) {
                s = clSetKernelArg(k, i++, Sizeof.cl_float, Pointer.to(new float[] {v.floatValue()}));
            } else {
                throw new IllegalArgumentException("unsupported kernel argument " + a);
            }
            Cl.check("clSetKernelArg(" + name + ", " + (i - 1) + ")", s);
        }
        long[] g = new long[global.length];
        for (int d = 0; d < g.length; d++) {
            g[d] = (global[d] + local[d] - 1) / local[d] * local[d];
        }
        countLaunch();
        Cl.check("clEnqueueNDRangeKernel(" + name + ")", clEnqueueNDRangeKernel(queue, k, g.length, null, g, local, 0, null, null));
    }
}
