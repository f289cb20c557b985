package dev.salvo.dist;

import dev.salvo.device.Device;
import java.nio.file.Path;
import java.util.Map;

/**
 * NCCL ({@code libnccl.so.2}) all-reducing CUDA device memory, called with the Foreign Function
 * and Memory API (the JDK 22+ build of this class, from the multi-release jar's
 * {@code META-INF/versions/22}).
 */
public final class Nccl {

    /** The shared library Salvo calls (NCCL 2.x). */
    public static final String LIBRARY = "libnccl.so.2";

    private Nccl() {
    }

    /** True when this JDK and build can call NCCL (whether the library is installed is {@link #find()}'s question). */
    public static boolean supported() {
        return true;
    }

    /** Why {@link #supported()} is false (never, on this JDK). */
    public static String unsupportedReason() {
        return "";
    }

    /**
     * Where {@value #LIBRARY} is, or null. Searched in order: the environment variable
     * {@code NCCL_LIBRARY} (a file), each folder of {@code LD_LIBRARY_PATH},
     * {@code /usr/lib/x86_64-linux-gnu}, {@code /usr/local/cuda/lib64}, {@code /usr/local/nccl/lib},
     * {@code /opt/nccl/lib}, and {@code nvidia/nccl/lib} of every Python {@code site-packages} or
     * {@code dist-packages} folder under {@code /usr/lib/python3*}, {@code /usr/local/lib/python3*}
     * and {@code ~/.local/lib/python3*} (a PyTorch pip install).
     */
    public static Path find() {
        return NcclSearch.findHere();
    }

    /** {@link #find()} with another environment, file-system root and home folder (for tests). */
    static Path find(Map<String, String> env, Path root, Path home) {
        return NcclSearch.find(env, root, home);
    }

    /**
     * NCCL over the ranks of {@code mpi} on {@code device} (a CUDA device, one per rank): rank 0
     * makes the NCCL id ({@code ncclGetUniqueId}), {@code mpi} broadcasts it, every rank joins
     * ({@code ncclCommInitRank}). Device buffers are then all-reduced by NCCL on the device's
     * stream; host collectives, barrier and abort go to {@code mpi}. Closing the result destroys the
     * NCCL communicator and then closes {@code mpi}; close it before the device. Every rank must call
     * this at the same point, like any collective.
     *
     * @param library {@value #LIBRARY} to load, or null for {@link #find()}'s
     * @throws DistributedException the device is not a CUDA device, the library is missing (saying
     *     where it was looked for and how to install it) or an NCCL call fails (naming it)
     */
    public static Communicator open(Communicator mpi, Device device, Path library) {
        return NcclCommunicator.open(mpi, device, library);
    }
}
