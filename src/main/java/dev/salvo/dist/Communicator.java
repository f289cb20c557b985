package dev.salvo.dist;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import java.nio.FloatBuffer;

/**
 * The collectives data-parallel training needs, over the ranks of one job: all-reduce (sum),
 * broadcast, barrier and abort. Three implementations: {@link SingleProcess} (one rank, every
 * collective a no-op, so the trainer has one code path), MPI (Open MPI's {@code libmpi.so.40}
 * through the Foreign Function and Memory API, JDK 22+; {@link Mpi}) on host memory, and NCCL
 * ({@code libnccl.so.2}, {@link Nccl}) on CUDA device memory.
 *
 * <p>Host collectives work on direct {@link FloatBuffer}s (for example from
 * {@link Device#allocHostStaging}) so the library reads them in place. Calls are made from one
 * thread at a time (implementations lock); every rank must make the same calls in the same order,
 * as MPI requires. A failure (a peer rank lost, a library error) throws {@link DistributedException}.
 */
public interface Communicator extends AutoCloseable {

    /** This process's rank, {@code 0 .. size()-1}. */
    int rank();

    /** Number of ranks in the job. */
    int size();

    /** Rank among the ranks on this machine (picks the GPU). */
    int localRank();

    /** Ranks on this machine. */
    int localSize();

    /** Which engine and library, for the rank line, e.g. {@code MPI on host memory (Open MPI v4.1.4)}. */
    String describe();

    /** Sums {@code length} floats from {@code offset} of the direct buffer {@code buf} over all ranks, in place. */
    void allReduceSum(FloatBuffer buf, int offset, int length);

    /** Sums {@code values} over all ranks, in place, in float64 (losses, counts, flags). */
    void allReduceSum(double[] values);

    /** Copies {@code length} floats from {@code offset} of rank {@code root}'s {@code buf} into every rank's. */
    void broadcast(FloatBuffer buf, int offset, int length, int root);

    /** Rank {@code root}'s bytes to every rank: the returned array (the same length on every rank). */
    byte[] broadcast(byte[] data, int root);

    /** Waits until every rank reaches it. */
    void barrier();

    /** Ends every rank of the job with exit code {@code code} (MPI_Abort); does not return. */
    void abort(int code);

    /** True when this communicator all-reduces {@code device}'s buffers in device memory (NCCL on CUDA). */
    default boolean reducesOnDevice(Device device) {
        return false;
    }

    /** Sums {@code buf} (a device float buffer) over all ranks in place, on the device; see {@link #reducesOnDevice}. */
    default void allReduceSum(Device device, DeviceBuffer buf) {
        throw new UnsupportedOperationException(describe() + " reduces host memory only");
    }

    /** Finalizes the library (MPI_Finalize); harmless twice. */
    @Override
    void close();
}
