package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.nn.Model;

/**
 * Evaluates a model on a dataset in batches: mean loss, accuracy, and the confusion matrix from
 * which per-class precision and recall follow. Copies back only per-row losses and predicted classes.
 */
public final class Evaluator {

    private Evaluator() {
    }

    /** Results: {@code confusion[true][predicted]} counts. */
    public record Report(double loss, double accuracy, int rows, long[][] confusion) {

        public Evaluation evaluation() {
            return new Evaluation(loss, accuracy, rows);
        }

        /** Precision of class {@code c}: right among those predicted c (NaN when none was). */
        public double precision(int c) {
            long predicted = 0;
            for (long[] row : confusion) {
                predicted += row[c];
            }
            return predicted == 0 ? Double.NaN : (double) confusion[c][c] / predicted;
        }

        /** Recall of class {@code c}: found among those truly c (NaN when there are none). */
        public double recall(int c) {
            long actual = 0;
            for (long v : confusion[c]) {
                actual += v;
            }
            return actual == 0 ? Double.NaN : (double) confusion[c][c] / actual;
        }
    }

    /** Evaluates with host-staged batches (one pass: a resident copy would copy as much). */
    public static Report run(Model model, Dataset data) {
        check(model, data);
        return run(model, Batcher.staged(model, data));
    }

    private static void check(Model model, Dataset data) {
        int c = model.spec().outputs();
        if (data.width() != model.spec().inputs()) {
            throw new IllegalArgumentException(data.name() + " has " + data.width() + " features but the network's input layer has "
                    + model.spec().inputs());
        }
        if (data.classes() > c) {
            throw new IllegalArgumentException(data.name() + " has " + data.classes() + " classes but the network's output layer has "
                    + c + " units");
        }
    }

    /** Evaluates the feed's dataset in natural order, batches of the model's capacity. */
    static Report run(Model model, Batcher feed) {
        Dataset data = feed.data;
        check(model, data);
        Device device = model.device();
        model.eval(); // dropout off, batch norm on its running statistics
        int batch = model.batchCapacity();
        int c = model.spec().outputs();
        float[] loss = new float[batch];
        int[] pred = new int[batch];
        long[][] confusion = new long[c][c];
        double lossSum = 0;
        long correct = 0;
        feed.order(null);
        for (int from = 0; from < data.rows(); from += batch) {
            int n = Math.min(batch, data.rows() - from);
            feed.load(from, n);
            model.forward(n);
            model.loss(n);
            device.download(model.rowLoss(n), loss);
            model.predict(n, pred);
            for (int r = 0; r < n; r++) {
                lossSum += loss[r];
                int label = feed.label(r);
                confusion[label][pred[r]]++;
                if (pred[r] == label) {
                    correct++;
                }
            }
        }
        int rows = data.rows();
        return new Report(rows == 0 ? Double.NaN : lossSum / rows, rows == 0 ? Double.NaN : (double) correct / rows, rows, confusion);
    }
}
