package dev.salvo.train;

/**
 * One epoch's figures. Validation fields are NaN when no validation set was given.
 *
 * @param epoch         1-based epoch number
 * @param trainLoss     mean of the epoch's per-step batch losses
 * @param valLoss       mean loss over the validation set
 * @param valAccuracy   fraction of validation rows classified right
 * @param learningRate  rate of the epoch's last step
 * @param seconds       wall time of the epoch's training steps
 * @param samplesPerSecond training rows per second in this epoch
 */
public record EpochStats(int epoch, double trainLoss, double valLoss, double valAccuracy,
                         double learningRate, double seconds, double samplesPerSecond) {
}
