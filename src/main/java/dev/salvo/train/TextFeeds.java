package dev.salvo.train;

import dev.salvo.device.DeviceBuffer;
import dev.salvo.nn.Model;

/**
 * A language model's feeds for {@link Trainer}: the training windows and the fixed validation
 * windows of a {@link TextWindows}, sharing one token buffer on the device, and the evaluation
 * over the validation windows.
 */
final class TextFeeds implements AutoCloseable {

    private final Model model;
    private final int batchSize;
    private final int perRankBatch;
    private TextWindows textData;
    private Batcher.Windows textFeed;
    private Batcher.Windows textValFeed;
    private int[] textValStarts;

    /** Feeds for a global batch of {@code batchSize} windows, of which a data-parallel rank loads {@code perRankBatch} at a time. */
    TextFeeds(Model model, int batchSize, int perRankBatch) {
        this.model = model;
        this.batchSize = batchSize;
        this.perRankBatch = perRankBatch;
    }

    /**
     * Checks that {@code model} and {@code config} can train on {@code text}: windows of the
     * network's inputs and positions, a vocabulary it predicts, a training split of at least one
     * window, and the configuration's epochs those of {@code text}.
     */
    static void check(Model model, TrainConfig config, TextWindows text) {
        if (model.spec().inputs() != text.context() || model.positions() != text.context()) {
            throw new IllegalArgumentException(text.name() + ": windows of " + text.context() + " tokens, but the network takes "
                    + model.spec().inputs() + " inputs and labels " + model.positions() + " positions");
        }
        if (model.spec().classes() < text.vocab()) {
            throw new IllegalArgumentException(text.name() + ": a vocabulary of " + text.vocab() + " tokens, but the network predicts "
                    + model.spec().classes());
        }
        if (text.trainLength() < text.context() + 1) {
            throw new IllegalArgumentException(text.name() + ": the training split holds " + text.trainLength()
                    + " tokens, shorter than one window of " + (text.context() + 1));
        }
        if (config.epochs() != text.epochs()) {
            throw new IllegalArgumentException(text.steps() + " steps in epochs of " + text.evalEvery() + " are " + text.epochs()
                    + " epochs, but the configuration says " + config.epochs());
        }
    }

    /**
     * The feeds for {@code text}: the stream goes up once (made once per {@link TextWindows} and
     * kept), the epoch's starts with each epoch, the validation starts once.
     */
    Batcher.Windows feed(TextWindows text) {
        if (textFeed != null && textData == text) {
            return textFeed;
        }
        close();
        DeviceBuffer tokens = Batcher.Windows.upload(model, text.tokens());
        try {
            textFeed = new Batcher.Windows(model, tokens, true, text.evalEvery() * batchSize, perRankBatch);
        } catch (RuntimeException e) {
            tokens.close();
            throw e;
        }
        textValStarts = text.validationStarts();
        int valBatch = Math.min(model.batchCapacity(), Math.max(1, textValStarts.length));
        textValFeed = new Batcher.Windows(model, tokens, false, textValStarts.length, valBatch);
        textValFeed.order(textValStarts);
        textData = text;
        return textFeed;
    }

    @Override
    public void close() {
        if (textValFeed != null) {
            textValFeed.close();
            textValFeed = null;
        }
        if (textFeed != null) {
            textFeed.close(); // and the token stream it owns
            textFeed = null;
        }
        textData = null;
    }

    /**
     * The mean cross-entropy and next-token accuracy over every position of {@code text}'s
     * validation windows ({@link TextWindows#validationStarts()}), in batches of the model's
     * capacity; copies back only the per-position losses and predictions.
     */
    Evaluation evaluate(TextWindows text) {
        feed(text);
        model.eval(); // dropout off
        int t = text.context();
        int cap = model.batchCapacity();
        float[] loss = new float[cap * t];
        int[] pred = new int[cap * t];
        int[] tokens = text.tokens();
        int windows = textValStarts.length;
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < windows; from += cap) {
            int n = Math.min(cap, windows - from);
            textValFeed.load(from, n);
            model.forward(n);
            model.loss(n);
            model.device().download(model.rowLoss(n), loss);
            model.predict(n, pred);
            for (int r = 0; r < n; r++) {
                int s = textValStarts[from + r];
                for (int j = 0; j < t; j++) {
                    lossSum += loss[r * t + j];
                    if (pred[r * t + j] == tokens[s + j + 1]) {
                        correct++;
                    }
                }
            }
        }
        long positions = (long) windows * t;
        return new Evaluation(lossSum / positions, (double) correct / positions, windows);
    }
}
