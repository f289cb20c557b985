package dev.salvo.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.FloatBuffer;

/**
 * MPI on host memory through a handful of downcalls into Open MPI's {@code libmpi.so.40}. Open MPI's
 * handles are addresses of predefined objects ({@code MPI_COMM_WORLD} is {@code &ompi_mpi_comm_world},
 * {@code MPI_FLOAT} is {@code &ompi_mpi_float}, {@code MPI_IN_PLACE} is {@code (void *) 1}); MPI is
 * initialized with {@code MPI_THREAD_SERIALIZED} and every call holds one lock.
 */
final class MpiCommunicator extends LockedCalls implements Communicator {

    private static final int MPI_THREAD_SERIALIZED = 2;
    private static final MemorySegment IN_PLACE = MemorySegment.ofAddress(1);

    private final Launch launch;
    private final int rank;
    private final int size;
    private final String version;
    private final MemorySegment world;
    private final MemorySegment mpiFloat;
    private final MemorySegment mpiDouble;
    private final MemorySegment mpiByte;
    private final MemorySegment mpiInt;
    private final MemorySegment sum;
    private final MethodHandle allreduce;
    private final MethodHandle allreduceAt;
    private final MethodHandle bcast;
    private final MethodHandle barrier;
    private final MethodHandle abort;
    private final MethodHandle finalizeCall;
    private final MethodHandle errorString;
    private final Arena arena = Arena.ofShared();
    private MemorySegment scratch;

    private MpiCommunicator(NativeLibrary lib, Launch launch) throws Throwable {
        this.launch = launch;
        world = lib.global("ompi_mpi_comm_world");
        mpiFloat = lib.global("ompi_mpi_float");
        mpiDouble = lib.global("ompi_mpi_double");
        mpiByte = lib.global("ompi_mpi_byte");
        mpiInt = lib.global("ompi_mpi_int");
        sum = lib.global("ompi_mpi_op_sum");
        MethodHandle init = lib.function("MPI_Init_thread", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS));
        MethodHandle commRank = lib.function("MPI_Comm_rank", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle commSize = lib.function("MPI_Comm_size", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle setErrhandler = lib.function("MPI_Comm_set_errhandler", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        MethodHandle libVersion = lib.function("MPI_Get_library_version", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        allreduce = lib.function("MPI_Allreduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        // the same function, its buffer given as a raw address (a pointer travels as a 64-bit integer on the
        // x86-64 and AArch64 ABIs): a gradient bucket inside the staging buffer needs no segment made per call
        allreduceAt = lib.function("MPI_Allreduce", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
        bcast = lib.function("MPI_Bcast", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
        barrier = lib.function("MPI_Barrier", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        abort = lib.function("MPI_Abort", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
        finalizeCall = lib.function("MPI_Finalize", FunctionDescriptor.of(JAVA_INT));
        errorString = lib.function("MPI_Error_string", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment provided = a.allocate(JAVA_INT);
            check((int) init.invokeExact(MemorySegment.NULL, MemorySegment.NULL, MPI_THREAD_SERIALIZED, provided), "MPI_Init_thread");
            if (provided.get(JAVA_INT, 0) < MPI_THREAD_SERIALIZED) {
                throw new DistributedException("MPI_Init_thread: the MPI library offers thread level " + provided.get(JAVA_INT, 0)
                        + ", Salvo needs MPI_THREAD_SERIALIZED (2)");
            }
            check((int) setErrhandler.invokeExact(world, lib.global("ompi_mpi_errors_return")), "MPI_Comm_set_errhandler");
            MemorySegment out = a.allocate(JAVA_INT);
            check((int) commRank.invokeExact(world, out), "MPI_Comm_rank");
            rank = out.get(JAVA_INT, 0);
            check((int) commSize.invokeExact(world, out), "MPI_Comm_size");
            size = out.get(JAVA_INT, 0);
            MemorySegment text = a.allocate(8192);
            check((int) libVersion.invokeExact(text, out), "MPI_Get_library_version");
            String v = text.getString(0).strip();
            int comma = v.indexOf(',');
            version = (comma > 0 ? v.substring(0, comma) : v).lines().findFirst().orElse("MPI");
        }
        if (launch != null && (launch.rank() != rank || launch.size() != size)) {
            throw new DistributedException("MPI says rank " + rank + " of " + size + " but the environment says rank " + launch.rank()
                    + " of " + launch.size());
        }
        scratch = arena.allocate(1 << 16, 16);
    }

    static Communicator open(Launch launch) {
        String[] why = new String[1];
        String name = System.getProperty("salvo.mpi.library", Mpi.LIBRARY); // a path, where Open MPI lives elsewhere
        NativeLibrary lib = NativeLibrary.open(new String[] {name}, why);
        if (lib == null) {
            throw new DistributedException(name + " not found (" + why[0] + "): install Open MPI, on Debian or Ubuntu"
                    + " with apt-get install openmpi-bin (its libopenmpi3 package holds " + Mpi.LIBRARY + ")");
        }
        try {
            return new MpiCommunicator(lib, launch);
        } catch (DistributedException e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException("MPI failed to start: " + t, t);
        }
    }

    @Override
    public int rank() {
        return rank;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public int localRank() {
        return launch == null ? rank : launch.localRank();
    }

    @Override
    public int localSize() {
        return launch == null ? size : launch.localSize();
    }

    @Override
    public String describe() {
        return "MPI on host memory (" + version + ")";
    }

    private void check(int rc, String call) throws Throwable {
        if (rc == 0) {
            return;
        }
        String text = "error " + rc;
        if (errorString != null) {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment s = a.allocate(1024);
                MemorySegment len = a.allocate(JAVA_INT);
                if ((int) errorString.invokeExact(rc, s, len) == 0) {
                    text = s.getString(0);
                }
            }
        }
        throw new DistributedException(call + " failed on rank " + rank + ": " + text + " (a peer rank may have been lost)");
    }

    private static MemorySegment segment(FloatBuffer buf, int offset, int length) {
        if (!buf.isDirect()) {
            throw new IllegalArgumentException("MPI needs a direct buffer");
        }
        if (offset < 0 || length < 0 || offset + length > buf.capacity()) {
            throw new IndexOutOfBoundsException("floats [" + offset + ", " + (offset + length) + ") of " + buf.capacity());
        }
        return MemorySegment.ofBuffer(buf.slice(offset, length));
    }

    /** The last buffer all-reduced (kept reachable) and its address: a training step reuses its staging buffer, so nothing is made per call. */
    private FloatBuffer lastBuffer;
    private long lastAddress;

    @Override
    public void allReduceSum(FloatBuffer buf, int offset, int length) {
        if (length == 0) {
            return;
        }
        // the training path: no lambda, no buffer view per call
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(closedMessage());
            }
            if (buf != lastBuffer) {
                if (!buf.isDirect()) {
                    throw new IllegalArgumentException("MPI needs a direct buffer");
                }
                lastAddress = MemorySegment.ofBuffer(buf.duplicate().clear()).address();
                lastBuffer = buf;
            }
            if (offset < 0 || length < 0 || offset + length > buf.capacity()) {
                throw new IndexOutOfBoundsException("floats [" + offset + ", " + (offset + length) + ") of " + buf.capacity());
            }
            check((int) allreduceAt.invokeExact(IN_PLACE, lastAddress + 4L * offset, length, mpiFloat, sum, world), "MPI_Allreduce");
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException(t.toString(), t);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void allReduceSum(double[] values) {
        if (values.length == 0) {
            return;
        }
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(closedMessage());
            }
            MemorySegment s = scratch(8L * values.length);
            MemorySegment.copy(values, 0, s, ValueLayout.JAVA_DOUBLE, 0, values.length);
            check((int) allreduce.invokeExact(IN_PLACE, s, values.length, mpiDouble, sum, world), "MPI_Allreduce");
            MemorySegment.copy(s, ValueLayout.JAVA_DOUBLE, 0, values, 0, values.length);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException(t.toString(), t);
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void broadcast(FloatBuffer buf, int offset, int length, int root) {
        if (length == 0) {
            return;
        }
        MemorySegment s = segment(buf, offset, length);
        call(() -> check((int) bcast.invokeExact(s, length, mpiFloat, root, world), "MPI_Bcast"));
    }

    @Override
    public byte[] broadcast(byte[] data, int root) {
        byte[][] result = new byte[1][];
        call(() -> {
            MemorySegment n = scratch(8);
            n.set(ValueLayout.JAVA_INT, 0, rank == root ? data.length : 0);
            check((int) bcast.invokeExact(n, 1, mpiInt, root, world), "MPI_Bcast");
            int len = n.get(ValueLayout.JAVA_INT, 0);
            MemorySegment s = scratch(Math.max(1, len));
            if (rank == root) {
                MemorySegment.copy(data, 0, s, ValueLayout.JAVA_BYTE, 0, len);
            }
            check((int) bcast.invokeExact(s, len, mpiByte, root, world), "MPI_Bcast");
            byte[] out = new byte[len];
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, 0, out, 0, len);
            result[0] = out;
        });
        return result[0];
    }

    @Override
    public void barrier() {
        call(() -> check((int) barrier.invokeExact(world), "MPI_Barrier"));
    }

    @Override
    public void abort(int code) {
        try {
            int ignored = (int) abort.invokeExact(world, code);
        } catch (Throwable t) {
            // fall through to halt
        }
        Runtime.getRuntime().halt(code);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            int ignored = (int) finalizeCall.invokeExact();
        } catch (Throwable t) {
            // finalizing is best effort: the process is ending
        } finally {
            lock.unlock();
        }
    }

    private MemorySegment scratch(long bytes) {
        if (scratch.byteSize() < bytes) {
            scratch = arena.allocate(Math.max(bytes, 2 * scratch.byteSize()), 16);
        }
        return scratch;
    }

    @Override
    String closedMessage() {
        return "MPI was finalized";
    }
}
