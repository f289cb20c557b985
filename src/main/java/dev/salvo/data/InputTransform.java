package dev.salvo.data;

/**
 * A per-feature affine map applied to inputs before the network, {@code x' = (x - shift) * scale},
 * fitted on the training split only ({@link Normalization#fit}) and saved with the model so that evaluation and prediction
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
                y[r * w + j] = (float) (((double) x[r * w + j] - shift[j]) * scale[j]);
            }
        }
        return new Dataset(d.name(), y, d.labels().clone(), d.rows(), w, d.classes());
    }
}
