package dev.salvo.train;

/**
 * A non-finite loss or gradient stopped training. The model keeps the parameters from before the
 * failing step (the device skipped every update from that step on).
 */
public final class TrainingDivergedException extends RuntimeException {

    private final int epoch;
    private final long step;
    private final String where;

    public TrainingDivergedException(int epoch, long step, int stepInEpoch, String where) {
        super("training diverged: non-finite loss at epoch " + epoch + ", step " + stepInEpoch + " of the epoch (step "
                + step + " overall); first non-finite value in " + where + "; the model keeps the weights from before this step");
        this.epoch = epoch;
        this.step = step;
        this.where = where;
    }

    /** 1-based epoch. */
    public int epoch() {
        return epoch;
    }

    /** 1-based global step. */
    public long step() {
        return step;
    }

    /** The layer (and pass) where the first non-finite value appeared. */
    public String where() {
        return where;
    }
}
