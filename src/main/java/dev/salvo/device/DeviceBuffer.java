package dev.salvo.device;

/**
 * A typed, one-dimensional region of device memory owned by one {@link Device}.
 *
 * <p>A buffer is either an allocation or a {@link #slice(long, long) slice} (a view that shares
 * the allocation's memory). Closing an allocation frees it; closing a slice does nothing. Any use
 * of a buffer after it or its device was closed throws {@link IllegalStateException}.
 */
public interface DeviceBuffer extends AutoCloseable {

    /** The device that owns this buffer. */
    Device device();

    /** Element type. */
    DType dtype();

    /** Number of elements. */
    long length();

    /** Size in bytes of the elements this buffer covers (4 bytes per element on the host side). */
    default long byteSize() {
        return 4L * length();
    }

    /** A view of {@code length} elements starting at {@code offset}; shares memory with this buffer. */
    DeviceBuffer slice(long offset, long length);

    /** True once this buffer (or the allocation it is a view of, or its device) was closed. */
    boolean isClosed();

    /** Frees an allocation; harmless when called twice; a no-op on slices. */
    @Override
    void close();
}
