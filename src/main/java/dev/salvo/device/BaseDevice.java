package dev.salvo.device;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * Bookkeeping shared by providers: live allocations, counters, closed state and argument checks.
 * A device is used from one thread at a time (its own worker threads aside).
 */
public abstract class BaseDevice implements Device {

    private final Set<BaseBuffer> live = Collections.newSetFromMap(new IdentityHashMap<>());
    private long bytesToDevice;
    private long bytesToHost;
    private long launches;
    private long allocations;
    private long liveBytes;
    private boolean closed;

    /** Frees the memory of an allocation. */
    protected abstract void free(BaseBuffer root);

    /** Releases the device itself after all buffers were freed. */
    protected abstract void shutdown();

    /** Bytes one element takes on the device (4, or 8 on the float64 reference). */
    protected long elementBytes(DType type) {
        return 4;
    }

    public final boolean isClosed() {
        return closed;
    }

    public final void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("device " + info().id() + " used after close");
        }
    }

    /** Records a new allocation; call from {@code allocFloat/allocInt}. */
    protected final <B extends BaseBuffer> B register(B root) {
        live.add(root);
        allocations++;
        liveBytes += elementBytes(root.dtype()) * root.length();
        return root;
    }

    final void release(BaseBuffer root) {
        if (live.remove(root)) {
            liveBytes -= elementBytes(root.dtype()) * root.length();
            free(root);
        }
    }

    /** Casts a buffer argument to this provider's type, checking owner, type, size and state. */
    protected final <B extends BaseBuffer> B arg(DeviceBuffer b, Class<B> type, DType dtype, long needed, String name) {
        if (b == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (b.device() != this || !type.isInstance(b)) {
            throw new IllegalArgumentException(name + " belongs to another device");
        }
        B buf = type.cast(b);
        buf.checkOpen();
        if (buf.dtype() != dtype) {
            throw new IllegalArgumentException(name + " must be a " + dtype + " buffer, got " + buf.dtype());
        }
        if (buf.length() < needed) {
            throw new IllegalArgumentException(name + " holds " + buf.length() + " elements, needs " + needed);
        }
        return buf;
    }

    protected final void countToDevice(long bytes) {
        bytesToDevice += bytes;
    }

    protected final void countToHost(long bytes) {
        bytesToHost += bytes;
    }

    protected final void countLaunch() {
        launches++;
    }

    /** Checks a host array is long enough for a copy of {@code n} elements. */
    protected static void checkHost(int hostLength, long n, String what) {
        if (hostLength < n) {
            throw new IllegalArgumentException(what + ": host array of " + hostLength + " elements, needs " + n);
        }
    }

    @Override
    public Counters counters() {
        return new Counters(bytesToDevice, bytesToHost, launches, allocations, live.size(), liveBytes);
    }

    @Override
    public final void close() {
        if (closed) {
            return;
        }
        for (BaseBuffer b : new ArrayList<>(live)) {
            b.markFreed();
            free(b);
        }
        live.clear();
        liveBytes = 0;
        closed = true;
        shutdown();
    }
}
