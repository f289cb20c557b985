package dev.salvo.dist;

/**
 * Open MPI through {@code libmpi.so.40}, called with the Foreign Function and Memory API (the
 * JDK 22+ build of this class, from the multi-release jar's {@code META-INF/versions/22}).
 */
public final class Mpi {

    /** The shared library Salvo calls (Open MPI 4.x and 5.x). */
    public static final String LIBRARY = "libmpi.so.40";

    private Mpi() {
    }

    /** True when this JDK and build can call MPI. */
    public static boolean supported() {
        return true;
    }

    /** Why {@link #supported()} is false (never, on this JDK). */
    public static String unsupportedReason() {
        return "";
    }

    /**
     * Loads {@value #LIBRARY} and initializes MPI for this rank ({@code MPI_Init_thread},
     * serialized threads); errors on the world communicator are returned, not fatal.
     *
     * @throws DistributedException the library is missing (naming the package that installs it) or MPI fails to start
     */
    public static Communicator open(Launch launch) {
        return MpiCommunicator.open(launch);
    }
}
