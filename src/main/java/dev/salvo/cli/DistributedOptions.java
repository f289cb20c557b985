package dev.salvo.cli;

import picocli.CommandLine.Option;

/** The options of {@code salvo train} about data-parallel runs under {@code mpirun}. */
final class DistributedOptions {

    @Option(names = "--distributed", description = "Insist on a data-parallel run: the process must have been started by mpirun"
            + " (otherwise exit 2). Under mpirun a run is data-parallel without it; --batch-size is then the global batch,"
            + " split over the ranks.")
    boolean distributed;

    @Option(names = "--bucket-mb", defaultValue = "4", paramLabel = "MIB",
            description = "Data-parallel: gradient bucket size in MiB; each bucket is all-reduced as soon as backward has"
                    + " finished it, while backward goes on. Default: ${DEFAULT-VALUE}.")
    double bucketMb;

    @Option(names = "--all-reduce", defaultValue = "auto", paramLabel = "auto|host|nccl",
            description = "Data-parallel: where gradients are summed: nccl (on the GPU; CUDA devices, one GPU per rank,"
                    + " libnccl.so.2 found), host (staged through host memory to MPI), auto (nccl where it can, else host)."
                    + " Default: ${DEFAULT-VALUE}.")
    String allReduce;

    /** Bucket size in floats, checked. */
    int bucketFloats() {
        return dev.salvo.bench.AllReduceBench.bucketFloats(bucketMb);
    }

    /** The --all-reduce value, checked. */
    String allReduce() {
        String a = allReduce.trim().toLowerCase(java.util.Locale.ROOT);
        if (!a.equals("auto") && !a.equals("host") && !a.equals("nccl")) {
            throw new IllegalArgumentException("--all-reduce must be auto, host or nccl, got '" + allReduce + "'");
        }
        return a;
    }
}
