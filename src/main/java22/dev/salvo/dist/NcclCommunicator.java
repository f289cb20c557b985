package dev.salvo.dist;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.salvo.device.DType;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.FloatBuffer;
import java.nio.file.Path;

/**
 * NCCL on one CUDA device per rank, through downcalls into {@code libnccl.so.2}; the MPI
 * communicator it was built on carries the NCCL id and every host collective. Device all-reduces
 * run in place on the device's stream with the device's context current, then the device is
 * synchronized and NCCL's asynchronous error checked. Every call holds one lock (but abort).
 */
final class NcclCommunicator extends LockedCalls implements Communicator {

    /** {@code ncclFloat} (= {@code ncclFloat32}) of {@code ncclDataType_t}. */
    static final int NCCL_FLOAT = 7;
    /** {@code ncclSum} of {@code ncclRedOp_t}. */
    static final int NCCL_SUM = 0;
    /** {@code NCCL_UNIQUE_ID_BYTES}. */
    static final int UNIQUE_ID_BYTES = 128;
    /** {@code ncclUniqueId}: {@code struct { char internal[128]; }}, passed by value to {@code ncclCommInitRank}. */
    static final MemoryLayout UNIQUE_ID = MemoryLayout.structLayout(MemoryLayout.sequenceLayout(UNIQUE_ID_BYTES, JAVA_BYTE));

    private final Communicator mpi;
    private final Device device;
    private final DeviceMemory memory;
    private final Path library;
    private final String version;
    private final MemorySegment comm;
    private final MethodHandle allReduce;
    private final MethodHandle destroy;
    private final MethodHandle abortComm;
    private final MethodHandle errorString;
    private final MethodHandle asyncError;

    private NcclCommunicator(NativeLibrary lib, Path library, Communicator mpi, Device device) throws Throwable {
        this.mpi = mpi;
        this.device = device;
        this.memory = device.deviceMemory();
        this.library = library;
        errorString = lib.function("ncclGetErrorString", FunctionDescriptor.of(ADDRESS, JAVA_INT));
        MethodHandle getVersion = lib.function("ncclGetVersion", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle getUniqueId = lib.function("ncclGetUniqueId", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        MethodHandle initRank = lib.function("ncclCommInitRank", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, UNIQUE_ID, JAVA_INT));
        allReduce = lib.function("ncclAllReduce",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
        destroy = lib.function("ncclCommDestroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        abortComm = lib.function("ncclCommAbort", FunctionDescriptor.of(JAVA_INT, ADDRESS));
        asyncError = lib.function("ncclCommGetAsyncError", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            check((int) getVersion.invokeExact(v), "ncclGetVersion");
            version = NcclSearch.version(v.get(JAVA_INT, 0));
            MemorySegment id = a.allocate(UNIQUE_ID);
            byte[] mine = new byte[0];
            int made = 0;
            if (mpi.rank() == 0) {
                made = (int) getUniqueId.invokeExact(id);
                // on failure rank 0 still broadcasts (an empty id), so the other ranks fail instead of waiting
                mine = made == 0 ? id.toArray(JAVA_BYTE) : new byte[0];
            }
            byte[] shared = mpi.broadcast(mine, 0);
            check(made, "ncclGetUniqueId");
            if (shared.length != UNIQUE_ID_BYTES) {
                throw new DistributedException("ncclGetUniqueId failed on rank 0 (rank " + mpi.rank() + " received an id of "
                        + shared.length + " bytes, not " + UNIQUE_ID_BYTES + ")");
            }
            MemorySegment.copy(shared, 0, id, JAVA_BYTE, 0, UNIQUE_ID_BYTES);
            MemorySegment out = a.allocate(ADDRESS);
            memory.makeCurrent();
            check((int) initRank.invokeExact(out, mpi.size(), id, mpi.rank()), "ncclCommInitRank");
            comm = out.get(ADDRESS, 0);
        }
    }

    static Communicator open(Communicator mpi, Device device, Path library) {
        if (mpi == null || device == null) {
            throw new IllegalArgumentException("NCCL needs an MPI communicator and a device");
        }
        if (device.deviceMemory() == null) {
            throw new DistributedException("NCCL reduces CUDA device memory; " + device.info().id() + " is not a CUDA device");
        }
        Path path = library != null ? library : Nccl.find();
        if (path == null) {
            throw new DistributedException(NcclSearch.notFound());
        }
        String[] why = new String[1];
        NativeLibrary lib = NativeLibrary.open(new String[] {path.toString()}, why);
        if (lib == null) {
            throw new DistributedException(path + " did not load: " + why[0]);
        }
        try {
            return new NcclCommunicator(lib, path, mpi, device);
        } catch (DistributedException e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException("NCCL failed to start: " + t, t);
        }
    }

    private String text(int rc) {
        try {
            MemorySegment s = (MemorySegment) errorString.invokeExact(rc);
            return s.address() == 0 ? "error " + rc : s.reinterpret(1024).getString(0) + " (" + rc + ")";
        } catch (Throwable t) {
            return "error " + rc;
        }
    }

    private void check(int rc, String call) {
        if (rc != 0) {
            throw new DistributedException(call + " failed on rank " + mpi.rank() + ": " + text(rc)
                    + " (NCCL_DEBUG=WARN prints NCCL's own account)");
        }
    }

    @Override
    public int rank() {
        return mpi.rank();
    }

    @Override
    public int size() {
        return mpi.size();
    }

    @Override
    public int localRank() {
        return mpi.localRank();
    }

    @Override
    public int localSize() {
        return mpi.localSize();
    }

    @Override
    public String describe() {
        return "NCCL " + version + " on device memory (" + library + ")";
    }

    @Override
    public boolean reducesOnDevice(Device d) {
        return d != null && d.deviceMemory() == memory;
    }

    @Override
    public void allReduceSum(Device d, DeviceBuffer buf) {
        if (!reducesOnDevice(d)) {
            throw new IllegalArgumentException("NCCL was opened on " + device.info().id() + ", not on " + (d == null ? "null" : d.info().id()));
        }
        if (buf.dtype() != DType.FLOAT) {
            throw new IllegalArgumentException("NCCL all-reduces float buffers, got " + buf.dtype());
        }
        long n = buf.length();
        if (n == 0) {
            return;
        }
        call(() -> {
            memory.makeCurrent();
            MemorySegment p = MemorySegment.ofAddress(memory.address(buf));
            MemorySegment stream = MemorySegment.ofAddress(memory.stream());
            check((int) allReduce.invokeExact(p, p, n, NCCL_FLOAT, NCCL_SUM, comm, stream), "ncclAllReduce");
            d.synchronize();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment e = a.allocate(JAVA_INT);
                check((int) asyncError.invokeExact(comm, e), "ncclCommGetAsyncError");
                check(e.get(JAVA_INT, 0), "ncclAllReduce (asynchronous error)");
            }
        });
    }

    @Override
    public void allReduceSum(FloatBuffer buf, int offset, int length) {
        call(() -> mpi.allReduceSum(buf, offset, length));
    }

    @Override
    public void allReduceSum(double[] values) {
        call(() -> mpi.allReduceSum(values));
    }

    @Override
    public void broadcast(FloatBuffer buf, int offset, int length, int root) {
        call(() -> mpi.broadcast(buf, offset, length, root));
    }

    @Override
    public byte[] broadcast(byte[] data, int root) {
        byte[][] out = new byte[1][];
        call(() -> out[0] = mpi.broadcast(data, root));
        return out[0];
    }

    @Override
    public void barrier() {
        call(mpi::barrier);
    }

    /** {@code ncclCommAbort} (best effort, without the lock: a collective may be stuck), then MPI's abort. */
    @Override
    public void abort(int code) {
        try {
            int ignored = (int) abortComm.invokeExact(comm);
        } catch (Throwable t) {
            // MPI_Abort ends the job regardless
        }
        mpi.abort(code);
    }

    /** {@code ncclCommDestroy} (with the device's context current while the device is open), then closes MPI; harmless twice. */
    @Override
    public void close() {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                memory.makeCurrent();
            } catch (IllegalStateException e) {
                // the device was closed first: NCCL selects its device itself
            }
            int rc = (int) destroy.invokeExact(comm);
            if (rc != 0) {
                System.err.println("warning: ncclCommDestroy on rank " + mpi.rank() + ": " + text(rc));
            }
        } catch (Throwable t) {
            System.err.println("warning: ncclCommDestroy on rank " + mpi.rank() + ": " + t);
        } finally {
            lock.unlock();
            mpi.close();
        }
    }

    @Override
    String closedMessage() {
        return "the NCCL communicator was closed";
    }
}
