package dev.salvo.device;

/**
 * Raw access to a GPU device's memory, for a C library that works on it in place (NCCL): device
 * pointers, the stream the device issues its work on, and the device ordinal. Only the CUDA
 * provider has it ({@link Device#deviceMemory()}). The numbers are valid while the device and the
 * buffer are open; the library's work must be ordered on {@link #stream()} (or the device
 * synchronized around it).
 */
public interface DeviceMemory {

    /** The device address of {@code b}'s first element (the allocation's address plus the slice offset, in bytes). */
    long address(DeviceBuffer b);

    /** The raw {@code CUstream} (a {@code cudaStream_t}) every copy and kernel of the device is issued on. */
    long stream();

    /** The CUDA device ordinal ({@code cudaSetDevice}'s number). */
    int ordinal();

    /**
     * Makes the device's CUDA context current on the calling thread. It is the device's primary
     * context, the one the CUDA runtime API (and so NCCL) uses, so a library's calls made after this
     * see the device's buffers and stream.
     */
    void makeCurrent();
}
