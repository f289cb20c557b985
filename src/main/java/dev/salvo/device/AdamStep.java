package dev.salvo.device;

/**
 * Hyperparameters of one Adam/AdamW step at step number {@code t >= 1}, PyTorch semantics:
 * <pre>
 * Adam : g' = g + weightDecay * w             AdamW: w = w * (1 - lr * weightDecay), g' = g
 * m = beta1 m + (1 - beta1) g'
 * v = beta2 v + (1 - beta2) g'^2
 * w = w - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 */
public record AdamStep(double lr, double beta1, double beta2, double eps, double weightDecay,
                       boolean decoupled, long t) {

    public double biasCorrection1() {
        return 1.0 - Math.pow(beta1, t);
    }

    public double biasCorrection2() {
        return 1.0 - Math.pow(beta2, t);
    }
}
