package dev.salvo.train;

/** Callbacks from {@link Trainer#fit}; all run on the training thread and must not touch the device. */
public interface TrainListener {

    /** Before the first step. */
    default void onStart(int epochs, int stepsPerEpoch, int trainRows) {
    }

    /** After step {@code step} (0-based, global) of epoch {@code epoch} was issued to the device. */
    default void onStep(int epoch, long step, int rows) {
    }

    /** When losses were read back: the mean batch loss of step {@code step}. */
    default void onLoss(long step, double loss) {
    }

    /** With gradient clipping on, when losses were read back: the global gradient norm (before clipping) of step {@code step}. */
    default void onGradNorm(long step, double norm) {
    }

    /** After a checkpoint was written (atomically) to {@code file} at global step {@code step}. */
    default void onCheckpoint(java.nio.file.Path file, long step) {
    }

    /** After each epoch, with the validation results. */
    default void onEpoch(EpochStats stats) {
    }

    TrainListener NONE = new TrainListener() {
    };
}
