package dev.salvo.train;

import dev.salvo.util.Rng;

/**
 * What a language model trains on: windows of a token stream ({@link Trainer#fit(TextWindows,
 * TrainListener, Checkpoint.Policy)}).
 *
 * <p>The stream {@code tokens} goes to the device once. Its first {@code trainLength} tokens are
 * the training split, the rest the validation split. Training runs {@code steps} steps in
 * "epochs" of {@code evalEvery} steps (the last one shorter when {@code evalEvery} does not divide
 * {@code steps}): at the start of each, {@code evalEvery * batch} window starts are drawn uniformly
 * from {@code [0, trainLength - context - 1]} with the run's shuffle RNG (all of them, even for a
 * shorter last epoch, so the draws do not depend on {@code steps}), and go up to the device once.
 * A window at {@code s} is {@code x = tokens[s .. s+T)} (ids as floats) and its labels
 * {@code y = tokens[s+1 .. s+T+1)}, gathered on the device ({@code RowsOps.gatherWindows}).
 *
 * <p>At each epoch's end the validation loss is the mean cross-entropy over every position of a
 * fixed set of validation windows: the consecutive non-overlapping windows starting at
 * {@code trainLength + k T} for {@code k = 0, 1, ...} (each needs {@code T + 1} tokens of the
 * split), at most {@code evalWindows} of them, evenly spaced ({@code k = floor(i K / evalWindows)})
 * when the split has more, {@code K}. Accuracy is next-token accuracy over the same positions.
 *
 * @param name        for messages and reports
 * @param tokens      the whole stream, training split first
 * @param trainLength tokens of the training split (training needs at least {@code context + 1}; 0 for evaluation only)
 * @param vocab       the vocabulary size: every token is in {@code [0, vocab)}
 * @param context     window length {@code T}: the network's input length
 * @param evalEvery   steps per epoch (validation after each)
 * @param steps       steps of the whole run
 * @param evalWindows most validation windows
 */
public record TextWindows(String name, int[] tokens, int trainLength, int vocab, int context, int evalEvery, long steps,
                          int evalWindows) {

    public TextWindows {
        if (context < 1) {
            throw new IllegalArgumentException("--context must be at least 1, got " + context);
        }
        if (evalEvery < 1) {
            throw new IllegalArgumentException("--eval-every must be at least 1, got " + evalEvery);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        }
        if (evalWindows < 1) {
            throw new IllegalArgumentException("--eval-windows must be at least 1, got " + evalWindows);
        }
        if (trainLength < 0 || tokens.length - trainLength < context + 1) {
            throw new IllegalArgumentException(name + ": the validation split needs at least " + (context + 1) + " tokens, it has "
                    + (tokens.length - trainLength));
        }
    }

    /** Epochs of the run: {@code ceil(steps / evalEvery)}. */
    public int epochs() {
        return Math.toIntExact((steps + evalEvery - 1) / evalEvery);
    }

    /** Steps of epoch {@code epoch} (0-based): {@code evalEvery}, the last one what is left. */
    public int stepsIn(int epoch) {
        long left = steps - (long) epoch * evalEvery;
        return (int) Math.max(0, Math.min(evalEvery, left));
    }

    /** Draws an epoch's window starts into {@code starts}, uniformly in {@code [0, trainLength - context - 1]}. */
    public void drawStarts(Rng rng, int[] starts) {
        int bound = trainLength - context; // starts 0 .. trainLength - T - 1: the labels end at trainLength - 1
        for (int i = 0; i < starts.length; i++) {
            starts[i] = rng.nextInt(bound);
        }
    }

    /** The validation windows' starts (absolute positions in {@link #tokens}); see the class comment. */
    public int[] validationStarts() {
        int k = (tokens.length - trainLength - 1) / context;
        int m = Math.min(k, evalWindows);
        int[] s = new int[m];
        for (int i = 0; i < m; i++) {
            long w = (long) i * k / m;
            s[i] = Math.toIntExact(trainLength + w * context);
        }
        return s;
    }
}
