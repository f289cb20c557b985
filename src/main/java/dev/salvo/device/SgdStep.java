package dev.salvo.device;

import java.util.Objects;

/**
 * Hyperparameters of one SGD step, PyTorch semantics ({@code torch.optim.SGD}, dampening 0):
 * <pre>
 * g' = g + weightDecay * w
 * v  = momentum * v + g'                 (only when momentum != 0)
 * d  = nesterov ? g' + momentum * v : (momentum != 0 ? v : g')
 * w  = w - lr * d
 * </pre>
 *
 * <p>A value with record-style accessors, except that the learning rate can be moved with
 * {@link #withRate(double)} in place: a trainer keeps one per run and changes it every step, so a
 * step allocates nothing. A device reads it only during the update call it was given to.
 */
public final class SgdStep {

    private double lr;
    private final double momentum;
    private final boolean nesterov;
    private final double weightDecay;

    public SgdStep(double lr, double momentum, boolean nesterov, double weightDecay) {
        this.lr = lr;
        this.momentum = momentum;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    public double lr() {
        return lr;
    }

    public double momentum() {
        return momentum;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }

    /** Sets the learning rate of this (reused) step and returns it. */
    public SgdStep withRate(double lr) {
        this.lr = lr;
        return this;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SgdStep s && Double.compare(lr, s.lr) == 0 && Double.compare(momentum, s.momentum) == 0
                && nesterov == s.nesterov && Double.compare(weightDecay, s.weightDecay) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(lr, momentum, nesterov, weightDecay);
    }

    @Override
    public String toString() {
        return "SgdStep[lr=" + lr + ", momentum=" + momentum + ", nesterov=" + nesterov + ", weightDecay=" + weightDecay + "]";
    }
}
