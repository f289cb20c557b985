package dev.salvo.device;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * An open device: it allocates buffers, copies data in and out, and runs the op set.
 *
 * <p>A device owns every buffer it made; {@link #close()} frees them all and is harmless twice.
 * Using a closed device or buffer throws {@link IllegalStateException}. All matrices are
 * row-major; shapes are written {@code x (N,C)}. Every op may be given {@link DeviceBuffer#slice
 * slices}; a buffer must hold at least the elements its shape names. Ops run in call order; a
 * {@code download} waits for all earlier ops. Output buffers must not alias inputs unless the op
 * says so.
 *
 * <p>Float buffers hold the device's working precision ({@link #precision()}), float32 on every
 * real device. Host copies are counted in {@link #counters()}.
 */
public interface Device extends AutoCloseable {

    DeviceInfo info();

    /** "float32" on real devices, "float64" on the reference device. */
    String precision();

    // ---- memory -------------------------------------------------------------------------

    /** Allocates {@code length} floats (contents undefined). @throws DeviceException.OutOfMemory */
    DeviceBuffer allocFloat(long length);

    /** Allocates {@code length} 32-bit ints (contents undefined). */
    DeviceBuffer allocInt(long length);

    /** Copies {@code src[0 .. dst.length())} to the device (rounded to the device precision). */
    void upload(float[] src, DeviceBuffer dst);

    /** Copies {@code src[0 .. dst.length())} to the device, rounding to the device precision. */
    void upload(double[] src, DeviceBuffer dst);

    void upload(int[] src, DeviceBuffer dst);

    /** Copies {@code src} (all of it) to {@code dst[0 .. src.length())}; waits for earlier ops. */
    void download(DeviceBuffer src, float[] dst);

    void download(DeviceBuffer src, double[] dst);

    void download(DeviceBuffer src, int[] dst);

    /** Waits until every op issued so far has finished. */
    void synchronize();

    // ---- host staging (data-parallel gradients go through it to MPI) -----------------------

    /**
     * A host buffer of {@code floats} floats for staging transfers: direct, in native byte order,
     * so a C library (MPI) reads it in place; page-locked where the provider can (CUDA), so copies
     * run at full speed. Lives until the device closes.
     */
    default FloatBuffer allocHostStaging(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    /** Copies {@code src} (all of it) to {@code dst[dstOffset ..)}; waits for earlier ops. Position and limit of {@code dst} stay. */
    default void download(DeviceBuffer src, FloatBuffer dst, int dstOffset) {
        float[] tmp = new float[Math.toIntExact(src.length())];
        download(src, tmp);
        dst.put(dstOffset, tmp);
    }

    /** Copies {@code src[srcOffset .. srcOffset + dst.length())} to {@code dst}. Position and limit of {@code src} stay. */
    default void upload(FloatBuffer src, int srcOffset, DeviceBuffer dst) {
        float[] tmp = new float[Math.toIntExact(dst.length())];
        src.get(srcOffset, tmp);
        upload(tmp, dst);
    }

    /**
     * Raw device pointers and stream for a library that works on device memory in place (NCCL), or
     * null when the device has none (every provider but CUDA).
     */
    default DeviceMemory deviceMemory() {
        return null;
    }

    /** Transfer, launch and allocation counters since the device was opened. */
    Counters counters();

    // ---- ops ----------------------------------------------------------------------------

    /**
     * Runs a call of a declared {@link Op}: every op is one (matrix products, activations, losses,
     * optimizer updates, convolution, pooling, normalization, random numbers, fill/copy, gathers...;
     * see {@code dev.salvo.device.ops}). The provider runs the op's CPU body, float64 reference or
     * kernel. The call was checked when it was made; this checks only that its buffers belong to
     * this device and are open.
     */
    void run(OpCall call);

    /** Frees every buffer; harmless twice. */
    @Override
    void close();
}
