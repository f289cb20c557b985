package dev.salvo.data;

import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A labelled classification dataset held in one contiguous row-major float array:
 * {@code features (rows, width)} and {@code labels (rows)} in {@code [0, classes)}.
 */
public record Dataset(String name, float[] features, int[] labels, int rows, int width, int classes) {

    public Dataset {
        if (rows < 0 || width < 1 || classes < 1) {
            throw new IllegalArgumentException(name + ": invalid shape rows=" + rows + " width=" + width + " classes=" + classes);
        }
        if (features.length != (long) rows * width || labels.length != rows) {
            throw new IllegalArgumentException(name + ": " + features.length + " feature values and " + labels.length
                    + " labels do not match " + rows + " rows of width " + width);
        }
        for (int i = 0; i < rows; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException(name + ": label " + labels[i] + " of row " + i + " outside [0," + classes + ")");
            }
        }
    }

    /** Number of distinct labels that occur. */
    public int distinctLabels() {
        boolean[] seen = new boolean[classes];
        int n = 0;
        for (int l : labels) {
            if (!seen[l]) {
                seen[l] = true;
                n++;
            }
        }
        return n;
    }

    /** Rows {@code index[0..]} as a new dataset. */
    public Dataset subset(String subsetName, int[] index) {
        float[] f = new float[index.length * width];
        int[] l = new int[index.length];
        for (int i = 0; i < index.length; i++) {
            System.arraycopy(features, index[i] * width, f, i * width, width);
            l[i] = labels[index[i]];
        }
        return new Dataset(subsetName, f, l, index.length, width, classes);
    }

    /** Two parts of a stratified split. */
    public record Split(Dataset first, Dataset second) {
    }

    /**
     * A stratified split: within each class, rows are shuffled with {@code seed} and the first
     * {@code round(fraction * classCount)} go to the second part. Deterministic for a seed.
     */
    public Split stratifiedSplit(double fraction, long seed, String firstName, String secondName) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("split fraction must be in (0, 1), got " + fraction);
        }
        Rng rng = new Rng(seed);
        List<List<Integer>> byClass = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            byClass.add(new ArrayList<>());
        }
        for (int i = 0; i < rows; i++) {
            byClass.get(labels[i]).add(i);
        }
        List<Integer> a = new ArrayList<>();
        List<Integer> b = new ArrayList<>();
        for (List<Integer> cls : byClass) {
            int[] idx = cls.stream().mapToInt(Integer::intValue).toArray();
            rng.shuffle(idx);
            int k = (int) Math.round(fraction * idx.length);
            for (int i = 0; i < idx.length; i++) {
                (i < k ? b : a).add(idx[i]);
            }
        }
        int[] ai = a.stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] bi = b.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Split(subset(firstName, ai), subset(secondName, bi));
    }

    @Override
    public String toString() {
        return name + " (" + rows + " rows x " + width + " features, " + classes + " classes)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Dataset d && name.equals(d.name) && rows == d.rows && width == d.width
                && classes == d.classes && Arrays.equals(features, d.features) && Arrays.equals(labels, d.labels);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + rows;
    }
}
