package dev.salvo.device.cuda;

import dev.salvo.device.DeviceException;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * The one place where CUDA driver results are checked and turned into typed errors named by
 * their status (for example {@code cuMemcpyDtoHAsync after gather_rows_f: CUDA_ERROR_ILLEGAL_ADDRESS}).
 * JCuda's own exceptions are switched off so every call goes through here.
 */
final class Cu {

    private Cu() {
    }

    /** Why the driver binding failed to load the first time (a JVM loads a native library once). */
    private static volatile String loadFailure;

    /** Loads JCuda's driver binding, which links {@code libcuda.so.1}; turns failure into Unavailable. */
    static void load() {
        String failed = loadFailure;
        if (failed != null) {
            throw new DeviceException.Unavailable("cuda", failed);
        }
        try {
            JCudaDriver.setExceptionsEnabled(false);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            String msg = String.valueOf(e.getMessage());
            String reason = msg.contains("libcuda") && msg.contains("cannot open") ? "libcuda.so.1 not found (no NVIDIA driver installed)"
                    : msg.contains("undefined symbol") ? "the NVIDIA driver is too old for " + CudaProvider.BINDINGS + " (" + msg + ")"
                    : "the JCuda driver binding could not be loaded (" + msg + ")";
            loadFailure = reason;
            throw new DeviceException.Unavailable("cuda", reason, e);
        }
    }

    static String status(int result) {
        String s = CUresult.stringFor(result);
        return s == null || s.isEmpty() ? "CUresult " + result : s;
    }

    static void check(String call, int result) {
        if (result != CUresult.CUDA_SUCCESS) {
            throw new DeviceException.CallFailed(call, status(result));
        }
    }

    /** Results after which the context is unusable: every later call must fail fast. */
    static boolean sticky(int result) {
        return result == CUresult.CUDA_ERROR_ILLEGAL_ADDRESS || result == CUresult.CUDA_ERROR_LAUNCH_FAILED
                || result == CUresult.CUDA_ERROR_MISALIGNED_ADDRESS || result == CUresult.CUDA_ERROR_ILLEGAL_INSTRUCTION
                || result == CUresult.CUDA_ERROR_HARDWARE_STACK_ERROR || result == CUresult.CUDA_ERROR_INVALID_PC
                || result == CUresult.CUDA_ERROR_ASSERT || result == CUresult.CUDA_ERROR_LAUNCH_TIMEOUT
                || result == CUresult.CUDA_ERROR_ECC_UNCORRECTABLE || result == CUresult.CUDA_ERROR_CONTEXT_IS_DESTROYED;
    }
}
