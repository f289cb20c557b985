package dev.salvo.train;

/**
 * How to train: optimizer, base learning rate and schedule, batch size, epochs, seed, how often
 * the loss is read back ({@code lossEvery} steps; the device keeps the others in a small buffer)
 * and early stopping ({@code patience} epochs without a better validation loss; 0 = off).
 */
public record TrainConfig(Optimizer optimizer, double learningRate, Schedule schedule, int batchSize,
                          int epochs, long seed, int lossEvery, int patience) {

    public TrainConfig {
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("--lr must be a positive finite number, got " + learningRate);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("--batch-size must be at least 1, got " + batchSize);
        }
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (lossEvery < 1) {
            throw new IllegalArgumentException("--loss-every must be at least 1, got " + lossEvery);
        }
        if (patience < 0) {
            throw new IllegalArgumentException("--patience must be 0 (off) or more epochs, got " + patience);
        }
    }

    /** Adam at 1e-3, constant rate, batch 32, 10 epochs, seed 1, loss read every step, no early stopping. */
    public static TrainConfig defaults() {
        return new TrainConfig(Optimizer.adam(), 1e-3, new Schedule.Constant(0), 32, 10, 1, 1, 0);
    }

    public TrainConfig withOptimizer(Optimizer o) {
        return new TrainConfig(o, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience);
    }

    public TrainConfig withLearningRate(double lr) {
        return new TrainConfig(optimizer, lr, schedule, batchSize, epochs, seed, lossEvery, patience);
    }

    public TrainConfig withSchedule(Schedule s) {
        return new TrainConfig(optimizer, learningRate, s, batchSize, epochs, seed, lossEvery, patience);
    }

    public TrainConfig withBatchSize(int b) {
        return new TrainConfig(optimizer, learningRate, schedule, b, epochs, seed, lossEvery, patience);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, e, seed, lossEvery, patience);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, s, lossEvery, patience);
    }

    public TrainConfig withLossEvery(int k) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, k, patience);
    }

    public TrainConfig withPatience(int p) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, p);
    }
}
