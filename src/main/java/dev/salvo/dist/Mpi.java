package dev.salvo.dist;

/**
 * Open MPI through {@code libmpi.so.40}. This is the JDK 17 build of the class: calling a C
 * library needs the Foreign Function and Memory API (final in JDK 22), which the multi-release
 * jar carries under {@code META-INF/versions/22}; on an older JDK every entry point says so.
 */
public final class Mpi {

    /** The shared library Salvo calls (Open MPI 4.x and 5.x). */
    public static final String LIBRARY = "libmpi.so.40";

    private Mpi() {
    }

    /** True when this JDK and build can call MPI. */
    public static boolean supported() {
        return false;
    }

    /** Why {@link #supported()} is false: one line with how to fix it. */
    public static String unsupportedReason() {
        return Runtimes.needJdk22();
    }

    /**
     * Initializes MPI for this rank.
     *
     * @throws DistributedException always on this JDK
     */
    public static Communicator open(Launch launch) {
        throw new DistributedException(unsupportedReason());
    }
}
