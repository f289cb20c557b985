package dev.salvo.device;

import java.util.Objects;

/**
 * Hyperparameters of one Adam/AdamW step at step number {@code t >= 1}, PyTorch semantics:
 * <pre>
 * Adam : g' = g + weightDecay * w             AdamW: w = w * (1 - lr * weightDecay), g' = g
 * m = beta1 m + (1 - beta1) g'
 * v = beta2 v + (1 - beta2) g'^2
 * w = w - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 *
 * <p>A value with record-style accessors, except that the learning rate and step number can be
 * moved with {@link #at(double, long)} in place: a trainer keeps one per run and advances it every
 * step, so a step allocates nothing. A device reads it only during the update call it was given to.
 */
public final class AdamStep {

    private double lr;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final boolean decoupled;
    private long t;

    public AdamStep(double lr, double beta1, double beta2, double eps, double weightDecay,
                    boolean decoupled, long t) {
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
        this.t = t;
    }

    public double lr() {
        return lr;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean decoupled() {
        return decoupled;
    }

    public long t() {
        return t;
    }

    /** Sets the learning rate and step number of this (reused) step and returns it. */
    public AdamStep at(double lr, long t) {
        this.lr = lr;
        this.t = t;
        return this;
    }

    public double biasCorrection1() {
        return 1.0 - Math.pow(beta1, t);
    }

    public double biasCorrection2() {
        return 1.0 - Math.pow(beta2, t);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AdamStep s && Double.compare(lr, s.lr) == 0 && Double.compare(beta1, s.beta1) == 0
                && Double.compare(beta2, s.beta2) == 0 && Double.compare(eps, s.eps) == 0
                && Double.compare(weightDecay, s.weightDecay) == 0 && decoupled == s.decoupled && t == s.t;
    }

    @Override
    public int hashCode() {
        return Objects.hash(lr, beta1, beta2, eps, weightDecay, decoupled, t);
    }

    @Override
    public String toString() {
        return "AdamStep[lr=" + lr + ", beta1=" + beta1 + ", beta2=" + beta2 + ", eps=" + eps + ", weightDecay="
                + weightDecay + ", decoupled=" + decoupled + ", t=" + t + "]";
    }
}
