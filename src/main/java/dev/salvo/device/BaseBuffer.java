package dev.salvo.device;

/**
 * Bookkeeping shared by providers' buffers: ownership, slicing, bounds and use-after-close
 * checks. A provider subclasses it and adds its memory handle.
 */
public abstract class BaseBuffer implements DeviceBuffer {

    private final BaseDevice device;
    private final BaseBuffer root;
    private final DType dtype;
    private final long offset;
    private final long length;
    private boolean freed;

    /** An allocation. */
    protected BaseBuffer(BaseDevice device, DType dtype, long length) {
        this.device = device;
        this.root = this;
        this.dtype = dtype;
        this.offset = 0;
        this.length = length;
    }

    /** A view of {@code parent}; {@code offset} is relative to the parent. */
    protected BaseBuffer(BaseBuffer parent, long offset, long length) {
        this.device = parent.device;
        this.root = parent.root;
        this.dtype = parent.dtype;
        this.offset = parent.offset + offset;
        this.length = length;
    }

    /** Creates the provider's slice object; bounds are already checked. */
    protected abstract BaseBuffer newSlice(long offset, long length);

    @Override
    public Device device() {
        return device;
    }

    @Override
    public DType dtype() {
        return dtype;
    }

    @Override
    public long length() {
        return length;
    }

    /** Element offset of this view inside its allocation. */
    public long offset() {
        return offset;
    }

    /** The allocation this buffer belongs to (itself for an allocation). */
    public BaseBuffer root() {
        return root;
    }

    @Override
    public DeviceBuffer slice(long offset, long length) {
        checkOpen();
        if (offset < 0 || length < 0 || offset + length > this.length) {
            throw new IndexOutOfBoundsException("slice [" + offset + ", " + (offset + length)
                    + ") outside a buffer of " + this.length + " elements");
        }
        return newSlice(offset, length);
    }

    @Override
    public boolean isClosed() {
        return root.freed || device.isClosed();
    }

    /** Throws {@link IllegalStateException} when this buffer or its device was closed. */
    public void checkOpen() {
        if (root.freed) {
            throw new IllegalStateException("device buffer used after close");
        }
        device.ensureOpen();
    }

    @Override
    public void close() {
        if (root == this && !freed && !device.isClosed()) {
            freed = true;
            device.release(this);
        }
    }

    void markFreed() {
        freed = true;
    }

    @Override
    public String toString() {
        return dtype + "[" + length + "]@" + device.info().id();
    }
}
