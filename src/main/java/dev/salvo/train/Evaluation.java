package dev.salvo.train;

/** Mean loss and accuracy of a model over a dataset of {@code rows} rows. */
public record Evaluation(double loss, double accuracy, int rows) {
}
