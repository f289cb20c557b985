package dev.salvo.train;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.nn.Model;
import java.util.function.UnaryOperator;

/**
 * The {@link Trainer}'s gradient clipping, made once: the partial sums of squares of the
 * gradients, the scale factor the optimizer update applies, and per loss slot the call that turns
 * the sums into the global norm (kept in the slot's norm, read back with the losses) and the factor.
 */
final class GradientClip {

    private final Device device;
    /** The partial sums of squares, the factor, the per-slot norms. */
    private final DeviceBuffer clipParts;
    private final DeviceBuffer clipScale;
    private final DeviceBuffer normSlots;
    /** {@code normPrefix[n]}: norm slots {@code 0..n-1} (made on first use). */
    private final DeviceBuffer[] normPrefix;
    private final float[] normHost;
    private final OpCall sumSquares;
    private final OpCall[] clipCalls;

    /** Clipping of {@code model}'s gradients to global norm {@code clipNorm}, with {@code k} loss slots; {@code own} takes the buffers. */
    GradientClip(Model model, double clipNorm, int k, UnaryOperator<DeviceBuffer> own) {
        device = model.device();
        clipParts = own.apply(device.allocFloat(ReduceOps.SUMSQ_PARTS));
        clipScale = own.apply(device.allocFloat(1));
        normSlots = own.apply(device.allocFloat(k));
        normPrefix = new DeviceBuffer[k + 1];
        normPrefix[k] = normSlots;
        normHost = new float[k];
        sumSquares = ReduceOps.sumSquares(model.gradients(), clipParts);
        clipCalls = new OpCall[k];
        for (int j = 0; j < k; j++) {
            clipCalls[j] = OptimizerOps.clipScale(clipParts, clipNorm, normSlots.slice(j, 1), clipScale);
        }
    }

    /** The scale factor the optimizer update multiplies the gradients by. */
    DeviceBuffer scale() {
        return clipScale;
    }

    /** The global norm of the gradients into norm slot {@code slot}, and the factor. */
    void run(int slot) {
        device.run(sumSquares);
        device.run(clipCalls[slot]);
    }

    /** Copies back the first {@code pending} norm slots. */
    void read(int pending) {
        DeviceBuffer np = normPrefix[pending];
        if (np == null) {
            np = normSlots.slice(0, pending);
            normPrefix[pending] = np;
        }
        device.download(np, normHost);
    }

    /** The norm in slot {@code j} as last {@linkplain #read read}. */
    float norm(int j) {
        return normHost[j];
    }
}
