package dev.salvo.device;

/**
 * Hyperparameters of one SGD step, PyTorch semantics ({@code torch.optim.SGD}, dampening 0):
 * <pre>
 * g' = g + weightDecay * w
 * v  = momentum * v + g'                 (only when momentum != 0)
 * d  = nesterov ? g' + momentum * v : (momentum != 0 ? v : g')
 * w  = w - lr * d
 * </pre>
 */
public record SgdStep(double lr, double momentum, boolean nesterov, double weightDecay) {
}
