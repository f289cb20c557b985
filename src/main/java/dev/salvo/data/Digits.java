package dev.salvo.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.GZIPInputStream;

/**
 * The embedded UCI optical recognition of handwritten digits dataset (8x8 images, 1,797 rows,
 * CC BY 4.0; attribution in {@code salvo/data/digits.NOTICE.txt}). Features are scaled from
 * 0..16 to [0, 1]. {@link #trainTest()} is the fixed 80/20 stratified split every run uses.
 */
public final class Digits {

    public static final String RESOURCE = "/salvo/data/digits.csv.gz";
    /** Seed of the fixed train/test split; changing it changes every reported accuracy. */
    public static final long SPLIT_SEED = 20260101L;
    public static final double TEST_FRACTION = 0.2;

    private Digits() {
    }

    public static Dataset load() {
        try (InputStream raw = Digits.class.getResourceAsStream(RESOURCE)) {
            if (raw == null) {
                throw new IllegalStateException("resource " + RESOURCE + " missing from the jar");
            }
            BufferedReader r = new BufferedReader(new InputStreamReader(new GZIPInputStream(raw), StandardCharsets.US_ASCII));
            float[] f = new float[1797 * 64];
            int[] l = new int[1797];
            int rows = 0;
            String line;
            while ((line = r.readLine()) != null) {
                if (line.isBlank()) {
                    continue;
                }
                String[] cells = line.split(",");
                if (cells.length != 65 || rows >= l.length) {
                    throw new IllegalStateException(RESOURCE + ": line " + (rows + 1) + " has " + cells.length
                            + " cells, expected 65 (64 features and a label)");
                }
                for (int c = 0; c < 64; c++) {
                    f[rows * 64 + c] = (float) (Double.parseDouble(cells[c]) / 16.0);
                }
                l[rows] = (int) Double.parseDouble(cells[64]);
                rows++;
            }
            if (rows != l.length) {
                throw new IllegalStateException(RESOURCE + ": " + rows + " rows, expected 1797");
            }
            return new Dataset("digits", f, l, rows, 64, 10);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** The fixed split: first = train (80%), second = test (20%), stratified by class. */
    public static Dataset.Split trainTest() {
        return load().stratifiedSplit(TEST_FRACTION, SPLIT_SEED, "digits-train", "digits-test");
    }
}
