package dev.salvo.device;

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

    /** Transfer, launch and allocation counters since the device was opened. */
    Counters counters();

    // ---- elementwise --------------------------------------------------------------------

    /** {@code x (N) <- value}. */
    void fill(DeviceBuffer x, double value);

    /** {@code dst (N) <- src (N)}; N = {@code src.length()}. */
    void copy(DeviceBuffer src, DeviceBuffer dst);

    /** {@code x (N) <- alpha * x}, in place. */
    void scale(DeviceBuffer x, double alpha);

    /** {@code y (N) <- act(x)}, N = {@code x.length()}; y may be x. NaN in gives NaN out (see {@link Activation}). */
    void activationForward(Activation act, DeviceBuffer x, DeviceBuffer y);

    /** {@code dz (N) <- dy * act'(z)} with z the pre-activation ({@link Activation#backward}: a select for ReLU); dz may be dy. */
    void activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz);

    // ---- matrix -------------------------------------------------------------------------

    /** {@code out (C) <- sum over rows of x (R,C)}: the bias gradient. */
    void columnSums(int rows, int cols, DeviceBuffer x, DeviceBuffer out);

    /** {@code out (1) <- sum of x (N)}. */
    void sum(DeviceBuffer x, DeviceBuffer out);

    /** {@code y (R,C) <- softmax over each row of x (R,C)}, max-subtracted. */
    void softmaxForward(int rows, int cols, DeviceBuffer x, DeviceBuffer y);

    /** {@code dx (R,C) <- y * (dy - sum_j dy_j y_j)} per row, y the softmax output. */
    void softmaxBackward(int rows, int cols, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx);

    /**
     * Fused softmax cross-entropy, forward and backward: for logits {@code x (R,C)} and labels
     * {@code (R)} in {@code [0,C)}: {@code rowLoss (R) <- logsumexp(x_r) - x_r[label_r]} and
     * {@code dx (R,C) <- gradScale * (softmax(x_r) - onehot(label_r))}. dx may be x.
     */
    void softmaxCrossEntropy(int rows, int cols, DeviceBuffer logits, DeviceBuffer labels,
                             double gradScale, DeviceBuffer rowLoss, DeviceBuffer dlogits);

    /**
     * Mean squared error, forward and backward: {@code rowLoss (R) <- mean_j (p - t)^2} and
     * {@code dp (R,C) <- gradScale * 2 (p - t) / C} for predictions {@code p (R,C)}, targets
     * {@code t (R,C)}.
     */
    void meanSquaredError(int rows, int cols, DeviceBuffer pred, DeviceBuffer target,
                          double gradScale, DeviceBuffer rowLoss, DeviceBuffer dpred);

    /** {@code out (R) int <- index of the first maximum of each row of x (R,C)}; NaN is the largest value (torch.argmax). */
    void argmax(int rows, int cols, DeviceBuffer x, DeviceBuffer out);

    /** {@code dst (R,C) <- src[index[r]]} rows of {@code src (S,C)}; float or int buffers (same type). */
    void gatherRows(int rows, int cols, DeviceBuffer src, DeviceBuffer index, DeviceBuffer dst);

    /**
     * Health check: {@code flag (1) <- NaN} when any element of {@code x (N)} is NaN or
     * infinite; otherwise {@code flag} is left as it was.
     */
    void checkFinite(DeviceBuffer x, DeviceBuffer flag);

    // ---- optimizers ---------------------------------------------------------------------

    /**
     * One SGD step over {@code w, g, velocity (N)} (see {@link SgdStep}); velocity may be null
     * when momentum is 0. Skipped entirely when {@code flag (1)} holds a non-finite value.
     */
    void sgdUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer flag);

    /** One Adam/AdamW step over {@code w, g, m, v (N)} (see {@link AdamStep}); skipped when {@code flag} is non-finite. */
    void adamUpdate(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer flag);

    // ---- declared ops -------------------------------------------------------------------

    /**
     * Runs a call of a declared {@link Op} (matrix products, convolution, pooling, normalization,
     * random numbers, tensor copies...): the op's CPU body, float64 reference or kernel, per provider. The call was
     * checked when it was made; this checks only that its buffers belong to this device and are open.
     */
    void run(OpCall call);

    /** Frees every buffer; harmless twice. */
    @Override
    void close();
}
