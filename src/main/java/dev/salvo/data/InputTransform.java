package dev.salvo.data;

/**
 * A per-feature affine map applied to inputs before the network, {@code x' = (x - shift) * scale},
 * fitted on the training split only and saved with the model so that evaluation and prediction
 * see inputs prepared the same way.
 */
public record InputTransform(float[] shift, float[] scale) {

    /** The identity for {@code width} features. */
    public static InputTransform identity(int width) {
        float[] one = new float[width];
        java.util.Arrays.fill(one, 1f);
        return new InputTransform(new float[width], one);
    }

    public boolean isIdentity() {
        for (int i = 0; i < shift.length; i++) {
            if (shift[i] != 0f || scale[i] != 1f) {
                return false;
            }
        }
        return true;
    }

    /**
     * Fits {@code kind} on {@code train}: {@code none}; {@code scale} maps the training split's overall
     * [min, max] to [0, 1]; {@code standardize} gives each feature the training split's mean 0 and
     * standard deviation 1 (a constant feature is only centred).
     */
    public static InputTransform fit(String kind, Dataset train) {
        int w = train.width();
        float[] x = train.features();
        switch (kind) {
            case "none" -> {
                return identity(w);
            }
            case "scale" -> {
                float min = Float.POSITIVE_INFINITY;
                float max = Float.NEGATIVE_INFINITY;
                for (float v : x) {
                    min = Math.min(min, v);
                    max = Math.max(max, v);
                }
                float range = max > min ? max - min : 1f;
                float[] shift = new float[w];
                float[] scale = new float[w];
                java.util.Arrays.fill(shift, train.rows() == 0 ? 0f : min);
                java.util.Arrays.fill(scale, 1f / range);
                return new InputTransform(shift, scale);
            }
            case "standardize" -> {
                double[] mean = new double[w];
                double[] sq = new double[w];
                int n = train.rows();
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < w; j++) {
                        mean[j] += x[r * w + j];
                    }
                }
                for (int j = 0; j < w; j++) {
                    mean[j] /= Math.max(1, n);
                }
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < w; j++) {
                        double d = x[r * w + j] - mean[j];
                        sq[j] += d * d;
                    }
                }
                float[] shift = new float[w];
                float[] scale = new float[w];
                for (int j = 0; j < w; j++) {
                    double sd = Math.sqrt(sq[j] / Math.max(1, n));
                    shift[j] = (float) mean[j];
                    scale[j] = sd > 1e-12 ? (float) (1.0 / sd) : 1f;
                }
                return new InputTransform(shift, scale);
            }
            default -> throw new IllegalArgumentException("--normalize: unknown normalization '" + kind
                    + "' (expected none, scale or standardize)");
        }
    }

    /** {@code d} with this transform applied (a new dataset; {@code d} is unchanged). */
    public Dataset apply(Dataset d) {
        if (d.width() != shift.length) {
            throw new IllegalArgumentException(d.name() + " has " + d.width() + " features, the input transform expects " + shift.length);
        }
        if (isIdentity()) {
            return d;
        }
        float[] x = d.features();
        float[] y = new float[x.length];
        int w = d.width();
        for (int r = 0; r < d.rows(); r++) {
            for (int j = 0; j < w; j++) {
                y[r * w + j] = (x[r * w + j] - shift[j]) * scale[j];
            }
        }
        return new Dataset(d.name(), y, d.labels(), d.rows(), w, d.classes());
    }
}
