package dev.salvo.train;

import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.nn.Model;

/**
 * The trainer's bookkeeping calls of a step, made once so that a step allocates nothing: per loss
 * slot, the sum of the batch's row losses into the slot (per row count: the full batch, and the
 * last other count, an epoch's partial batch), the health checks (a non-finite gradient turns the
 * slot NaN, a non-finite slot turns the flag NaN), and the flag's reset.
 */
final class StepCalls {

    private final Model model;
    private final DeviceBuffer[] slots;
    private final int batch;
    private final OpCall[] gradientCheck;
    private final OpCall[] slotCheck;
    private final OpCall[] fullSum;
    private final OpCall[] otherSum;
    private final int[] otherRows;
    /** {@code health <- 0}. */
    final OpCall clearHealth;

    StepCalls(Model model, DeviceBuffer[] slots, DeviceBuffer health, int batch) {
        this.model = model;
        this.slots = slots;
        this.batch = batch;
        int k = slots.length;
        gradientCheck = new OpCall[k];
        slotCheck = new OpCall[k];
        for (int j = 0; j < k; j++) {
            gradientCheck[j] = ElementwiseOps.checkFinite(model.gradients(), slots[j]);
            slotCheck[j] = ElementwiseOps.checkFinite(slots[j], health);
        }
        fullSum = new OpCall[k];
        otherSum = new OpCall[k];
        otherRows = new int[k];
        clearHealth = ElementwiseOps.fill(health, 0);
    }

    /** {@code slot <- sum of the first n row losses}; made on first use per slot and row count. */
    OpCall lossSum(int slot, int n) {
        if (n == batch) {
            OpCall c = fullSum[slot];
            if (c == null) {
                c = ReduceOps.sum(model.rowLoss(n), slots[slot]);
                fullSum[slot] = c;
            }
            return c;
        }
        if (otherSum[slot] == null || otherRows[slot] != n) {
            otherSum[slot] = ReduceOps.sum(model.rowLoss(n), slots[slot]);
            otherRows[slot] = n;
        }
        return otherSum[slot];
    }

    /** {@code slot <- NaN} when a gradient is not finite. */
    OpCall gradientCheck(int slot) {
        return gradientCheck[slot];
    }

    /** {@code health <- NaN} when the slot is not finite. */
    OpCall slotCheck(int slot) {
        return slotCheck[slot];
    }
}
