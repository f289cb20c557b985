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

    public static Report run(Model model, Dataset data) {
        Device device = model.device();
        int batch = model.batchCapacity();
        int f = data.width();
        int c = model.spec().outputs();
        if (f != model.spec().inputs()) {
            throw new IllegalArgumentException(data.name() + " has " + f + " features but the network's input layer has "
                    + model.spec().inputs());
        }
        if (data.classes() > c) {
            throw new IllegalArgumentException(data.name() + " has " + data.classes() + " classes but the network's output layer has "
                    + c + " units");
        }
        Batcher batcher = new Batcher(model);
        float[] loss = new float[batch];
        int[] pred = new int[batch];
        long[][] confusion = new long[c][c];
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < data.rows(); from += batch) {
            int n = Math.min(batch, data.rows() - from);
            batcher.load(data, null, from, n);
            model.forward(n);
            model.loss(n);
            device.download(model.rowLoss().slice(0, n), loss);
            model.predict(n, pred);
            for (int r = 0; r < n; r++) {
                lossSum += loss[r];
                int label = batcher.label(r);
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
