package dev.salvo.data;

import dev.salvo.util.Rng;

/** Synthetic datasets for tests and consistency checks. */
public final class Synthetic {

    private Synthetic() {
    }

    /**
     * {@code classes} Gaussian clusters in {@code width} dimensions: random centres (sd 2), points
     * with sd 1.5 around them, labels cycling through the classes. Learnable but not trivially.
     */
    public static Dataset clusters(String name, int rows, int width, int classes, long seed) {
        Rng rng = new Rng(seed);
        double[][] centres = new double[classes][width];
        for (double[] c : centres) {
            for (int j = 0; j < width; j++) {
                c[j] = 2 * rng.nextGaussian();
            }
        }
        Rng draw = new Rng(seed + 7);
        float[] x = new float[rows * width];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = i % classes;
            for (int j = 0; j < width; j++) {
                x[i * width + j] = (float) (centres[y[i]][j] + 1.5 * draw.nextGaussian());
            }
        }
        return new Dataset(name, x, y, rows, width, classes);
    }
}
