package dev.salvo.train;

/**
 * How to train: optimizer, base learning rate and schedule, batch size, epochs, seed, how often
 * the loss is read back ({@code lossEvery} steps; the device keeps the others in a small buffer),
 * early stopping ({@code patience} epochs without a better validation loss; 0 = off), where the
 * dataset lives ({@link ResidentData}), gradient clipping by global norm ({@code clipNorm}, 0 = off;
 * PyTorch's {@code clip_grad_norm_}) and which parameters weight decay applies to ({@code decay};
 * null: the network's {@link dev.salvo.nn.NetworkSpec#decay()}).
 */
public record TrainConfig(Optimizer optimizer, double learningRate, Schedule schedule, int batchSize,
                          int epochs, long seed, int lossEvery, int patience, ResidentData residentData,
                          double clipNorm, dev.salvo.nn.DecayPolicy decay) {

    /**
     * Where the training (and validation) rows live during {@link Trainer#fit}.
     * {@code ON}: uploaded to the device once; each step gathers its batch there by a shuffled
     * row order uploaded once per epoch, so a step copies nothing in. {@code OFF}: kept on the
     * host; each step uploads its batch. {@code AUTO} (the default): on the device when the
     * training and validation sets together take at most a quarter of the device's memory
     * ({@link dev.salvo.device.DeviceInfo#memoryBytes()}, the JVM heap for the CPU provider).
     * Both give bitwise the same training.
     */
    public enum ResidentData {
        AUTO, ON, OFF;

        /** By command-line name: {@code auto}, {@code on}, {@code off}. */
        public static ResidentData parse(String name) {
            return switch (name.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "auto" -> AUTO;
                case "on" -> ON;
                case "off" -> OFF;
                default -> throw new IllegalArgumentException("--resident-data must be auto, on or off, got '" + name + "'");
            };
        }
    }

    /** Without clipping, weight decay as the network says. */
    public TrainConfig(Optimizer optimizer, double learningRate, Schedule schedule, int batchSize,
                       int epochs, long seed, int lossEvery, int patience, ResidentData residentData) {
        this(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, residentData, 0, null);
    }

    /** With {@link ResidentData#AUTO}. */
    public TrainConfig(Optimizer optimizer, double learningRate, Schedule schedule, int batchSize,
                       int epochs, long seed, int lossEvery, int patience) {
        this(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, ResidentData.AUTO);
    }

    public TrainConfig {
        if (residentData == null) {
            throw new IllegalArgumentException("--resident-data must be auto, on or off, got null");
        }
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
        if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) {
            throw new IllegalArgumentException("--clip-norm must be 0 (off) or a positive finite number, got " + clipNorm);
        }
    }

    /** Adam at 1e-3, constant rate, batch 32, 10 epochs, seed 1, loss read every step, no early stopping. */
    public static TrainConfig defaults() {
        return new TrainConfig(Optimizer.adam(), 1e-3, new Schedule.Constant(0), 32, 10, 1, 1, 0);
    }

    public TrainConfig withOptimizer(Optimizer o) {
        return new TrainConfig(o, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withLearningRate(double lr) {
        return new TrainConfig(optimizer, lr, schedule, batchSize, epochs, seed, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withSchedule(Schedule s) {
        return new TrainConfig(optimizer, learningRate, s, batchSize, epochs, seed, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withBatchSize(int b) {
        return new TrainConfig(optimizer, learningRate, schedule, b, epochs, seed, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withEpochs(int e) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, e, seed, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withSeed(long s) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, s, lossEvery, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withLossEvery(int k) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, k, patience, residentData, clipNorm, decay);
    }

    public TrainConfig withPatience(int p) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, p, residentData, clipNorm, decay);
    }

    public TrainConfig withResidentData(ResidentData r) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, r, clipNorm, decay);
    }

    public TrainConfig withClipNorm(double c) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, residentData, c, decay);
    }

    /** {@code d} null: the network's policy. */
    public TrainConfig withDecay(dev.salvo.nn.DecayPolicy d) {
        return new TrainConfig(optimizer, learningRate, schedule, batchSize, epochs, seed, lossEvery, patience, residentData, clipNorm, d);
    }
}
