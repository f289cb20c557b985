package dev.salvo.device.opencl;

import static org.jocl.CL.*;

import dev.salvo.device.DeviceException;
import java.nio.charset.StandardCharsets;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

/**
 * The one place where OpenCL status codes are checked and turned into typed errors named by
 * their status (for example {@code clEnqueueNDRangeKernel(matmul) failed: CL_INVALID_WORK_GROUP_SIZE}).
 * JOCL's own exceptions are switched off so every call goes through here.
 */
final class Cl {

    /** OpenCL's cl_khr_icd status for "no platform installed". */
    static final int PLATFORM_NOT_FOUND_KHR = -1001;

    private Cl() {
    }

    /** Why the library failed to load the first time (a JVM loads a native library once). */
    private static volatile String loadFailure;

    /** Loads JOCL and the OpenCL library; turns a missing library into Unavailable. */
    static void load() {
        String failed = loadFailure;
        if (failed != null) {
            throw new DeviceException.Unavailable("opencl", failed);
        }
        try {
            CL.setExceptionsEnabled(false);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            loadFailure = "the OpenCL library could not be loaded (" + msg + "); install an ICD loader (libOpenCL.so, "
                    + "Debian: ocl-icd-opencl-dev) and a platform (for example pocl-opencl-icd)";
            throw new DeviceException.Unavailable("opencl", loadFailure, e);
        }
    }

    static String status(int code) {
        if (code == PLATFORM_NOT_FOUND_KHR) {
            return "CL_PLATFORM_NOT_FOUND_KHR";
        }
        String s = CL.stringFor_errorCode(code);
        return s == null || s.isEmpty() ? "status " + code : s;
    }

    /** Throws a typed error unless {@code code} is CL_SUCCESS. */
    static void check(String call, int code) {
        if (code != CL_SUCCESS) {
            throw new DeviceException.CallFailed(call, status(code));
        }
    }

    static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        check("clGetPlatformInfo", clGetPlatformInfo(p, param, 0, null, size));
        byte[] b = new byte[(int) size[0]];
        check("clGetPlatformInfo", clGetPlatformInfo(p, param, b.length, Pointer.to(b), null));
        return cString(b);
    }

    static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        check("clGetDeviceInfo", clGetDeviceInfo(d, param, 0, null, size));
        byte[] b = new byte[(int) size[0]];
        check("clGetDeviceInfo", clGetDeviceInfo(d, param, b.length, Pointer.to(b), null));
        return cString(b);
    }

    static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        check("clGetDeviceInfo", clGetDeviceInfo(d, param, Sizeof.cl_ulong, Pointer.to(v), null));
        return v[0];
    }

    static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        check("clGetDeviceInfo", clGetDeviceInfo(d, param, Sizeof.cl_uint, Pointer.to(v), null));
        return v[0];
    }

    static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        check("clGetDeviceInfo", clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null));
        return v[0];
    }

    static String buildLog(cl_program program, cl_device_id d) {
        long[] size = new long[1];
        if (clGetProgramBuildInfo(program, d, CL_PROGRAM_BUILD_LOG, 0, null, size) != CL_SUCCESS) {
            return "(no build log)";
        }
        byte[] b = new byte[(int) size[0]];
        clGetProgramBuildInfo(program, d, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
        return cString(b).strip();
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8).trim();
    }
}
