package dev.salvo.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Feature normalization whose statistics come from the training split only and are then applied
 * unchanged to the other splits (so nothing about the test data leaks into training).
 *
 * <ul>
 *   <li>{@link #NONE}: the datasets are returned as they are (the same instances).</li>
 *   <li>{@link #SCALE}: {@code x' = (x - min) / (max - min)} with one global {@code min} and
 *       {@code max} over every feature value of the training split, so the training split lies in
 *       {@code [0, 1]}; other splits may fall slightly outside and are not clamped. When all
 *       training values are equal the result is {@code x - min}. The IDX image sets from
 *       {@link StandardDatasets} are already divided by 255; for them SCALE only stretches the
 *       observed training range to [0, 1] (a no-op when it already spans 0..1).</li>
 *   <li>{@link #STANDARDIZE}: per feature, {@code x' = (x - mean) / std} with the mean and the
 *       population standard deviation (divisor n) of that feature over the training split; a
 *       feature whose training std is 0 is only centred (divided by 1).</li>
 * </ul>
 * Statistics are accumulated in double precision. The input datasets are never modified.
 */
public enum Normalization {
    NONE,
    SCALE,
    STANDARDIZE;

    /**
     * Parses the value of the {@code --normalize} option: {@code none}, {@code scale} or
     * {@code standardize} (case-insensitive).
     */
    public static Normalization parse(String s) {
        if (s != null) {
            switch (s.trim().toLowerCase(Locale.ROOT)) {
                case "none":
                    return NONE;
                case "scale":
                    return SCALE;
                case "standardize":
                    return STANDARDIZE;
                default:
                    break;
            }
        }
        throw new IllegalArgumentException("--normalize: unknown value '" + s
                + "' (accepted: none, scale, standardize)");
    }

    /** The option spelling of this value: {@code none}, {@code scale} or {@code standardize}. */
    public String optionName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Normalizes {@code train} and {@code others} with statistics of {@code train}.
     *
     * @return the normalized training set first, then the others in order
     * @throws IllegalArgumentException if an other dataset's width differs from the training set's,
     *                                  or the training set is empty (SCALE, STANDARDIZE)
     */
    public List<Dataset> apply(Dataset train, Dataset... others) {
        for (Dataset o : others) {
            if (o.width() != train.width()) {
                throw new IllegalArgumentException(o.name() + " has " + o.width() + " features, but the training set "
                        + train.name() + " has " + train.width());
            }
        }
        List<Dataset> out = new ArrayList<>(1 + others.length);
        if (this == NONE) {
            out.add(train);
            out.addAll(List.of(others));
            return out;
        }
        if (train.rows() == 0) {
            throw new IllegalArgumentException("cannot " + optionName() + " features: the training set "
                    + train.name() + " has no rows");
        }
        InputTransform t = fit(train);
        out.add(t.apply(train));
        for (Dataset o : others) {
            out.add(t.apply(o));
        }
        return out;
    }

    /**
     * The per-feature transform {@code x' = (x - shift) * scale} this normalization fits on
     * {@code train} (the identity for NONE); it is saved with a model so evaluation and prediction
     * prepare inputs the same way.
     */
    public InputTransform fit(Dataset train) {
        int w = train.width();
        if (this == NONE) {
            return InputTransform.identity(w);
        }
        if (train.rows() == 0) {
            throw new IllegalArgumentException("cannot " + optionName() + " features: the training set "
                    + train.name() + " has no rows");
        }
        float[] shift = new float[w];
        float[] factor = new float[w];
        float[] x = train.features();
        if (this == SCALE) {
            float min = Float.POSITIVE_INFINITY;
            float max = Float.NEGATIVE_INFINITY;
            for (float v : x) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
            double range = (double) max - min;
            java.util.Arrays.fill(shift, min);
            java.util.Arrays.fill(factor, (float) (range > 0 ? 1.0 / range : 1.0));
        } else {
            int n = train.rows();
            double[] mean = new double[w];
            for (int r = 0, o = 0; r < n; r++, o += w) {
                for (int c = 0; c < w; c++) {
                    mean[c] += x[o + c];
                }
            }
            for (int c = 0; c < w; c++) {
                mean[c] /= n;
                shift[c] = (float) mean[c];
            }
            double[] sq = new double[w];
            for (int r = 0, o = 0; r < n; r++, o += w) {
                for (int c = 0; c < w; c++) {
                    double d = x[o + c] - mean[c];
                    sq[c] += d * d;
                }
            }
            for (int c = 0; c < w; c++) {
                double std = Math.sqrt(sq[c] / n);
                factor[c] = (float) (std > 0 ? 1.0 / std : 1.0);
            }
        }
        return new InputTransform(shift, factor);
    }

    /** Normalizes a train/test split with statistics of {@code split.first()}. */
    public Dataset.Split apply(Dataset.Split split) {
        List<Dataset> d = apply(split.first(), split.second());
        return new Dataset.Split(d.get(0), d.get(1));
    }
}
