package dev.salvo.train;

import java.util.List;

/**
 * What {@link Trainer#fit} did.
 *
 * @param epochs       per-epoch figures
 * @param steps        optimizer steps taken
 * @param samples      training rows processed
 * @param seconds      wall time of the whole fit
 * @param stoppedEarly true when early stopping ended the run
 * @param bestEpoch    epoch whose weights the model holds at the end (the last one without early stopping)
 * @param interrupted  true when {@link Trainer#requestStop()} ended the run before its last epoch;
 *                     the model then holds the parameters of the last completed step
 */
public record History(List<EpochStats> epochs, long steps, long samples, double seconds,
                      boolean stoppedEarly, int bestEpoch, boolean interrupted) {

    public History {
        epochs = List.copyOf(epochs);
    }

    public EpochStats last() {
        return epochs.get(epochs.size() - 1);
    }
}
