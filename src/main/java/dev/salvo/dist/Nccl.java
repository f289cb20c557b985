package dev.salvo.dist;

import dev.salvo.device.Device;
import java.nio.file.Path;
import java.util.Map;

/**
 * NCCL ({@code libnccl.so.2}) all-reducing CUDA device memory. This is the JDK 17 build of the
 * class: calling a C library needs the Foreign Function and Memory API (final in JDK 22), which the
 * multi-release jar carries under {@code META-INF/versions/22}; on an older JDK {@link #open} says
 * so. {@link #find()} works on any JDK.
 */
public final class Nccl {

    /** The shared library Salvo calls (NCCL 2.x). */
    public static final String LIBRARY = "libnccl.so.2";

    private Nccl() {
    }

    /** True when this JDK and build can call NCCL (whether the library is installed is {@link #find()}'s question). */
    public static boolean supported() {
        return false;
    }

    /** Why {@link #supported()} is false: one line with how to fix it. */
    public static String unsupportedReason() {
        return Runtimes.needJdk22();
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
     * NCCL over the ranks of {@code mpi} on {@code device}.
     *
     * @throws DistributedException always on this JDK
     */
    public static Communicator open(Communicator mpi, Device device, Path library) {
        throw new DistributedException(unsupportedReason());
    }
}
