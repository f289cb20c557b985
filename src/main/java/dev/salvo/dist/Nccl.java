package dev.salvo.dist;

import dev.salvo.device.Device;
import java.nio.file.Path;

/** NCCL (placeholder until the NCCL communicator lands): never found. */
public final class Nccl {

    public static final String LIBRARY = "libnccl.so.2";

    private Nccl() {
    }

    public static boolean supported() {
        return false;
    }

    public static Path find() {
        return null;
    }

    public static Communicator open(Communicator mpi, Device device, Path library) {
        throw new DistributedException(LIBRARY + " is not supported by this build");
    }
}
