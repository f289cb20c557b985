package dev.salvo.bench;

import java.util.Arrays;
import java.util.List;

/**
 * Median and range of repeated measurements.
 *
 * @param median the median (mean of the middle two for an even count)
 * @param min    the smallest value
 * @param max    the largest value
 * @param values every value, in the order measured
 */
public record Stats(double median, double min, double max, List<Double> values) {

    public Stats {
        values = List.copyOf(values);
    }

    /** Stats of {@code values} (at least one). */
    public static Stats of(double... values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        double median = n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        return new Stats(median, s[0], s[n - 1], Arrays.stream(values).boxed().toList());
    }

    /** Stats of {@code values}. */
    public static Stats of(List<Double> values) {
        return of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }
}
