package dev.salvo.data;

import static dev.salvo.data.IdxTest.assertBad;
import static dev.salvo.data.IdxTest.encode;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StandardDatasetsTest {

    static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path dir;

    @Test
    void fashionMnistFromTheDebianPackage() {
        Assumptions.assumeTrue(Files.isRegularFile(FASHION.resolve("train-images-idx3-ubyte.gz")),
                "Fashion-MNIST not installed in " + FASHION + " (apt-get install dataset-fashion-mnist)");
        long t0 = System.nanoTime();
        Dataset.Split s = StandardDatasets.load("fashion-mnist", null);
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("Fashion-MNIST train+test (images and labels, gzip) loaded in %.3f s%n", secs);
        assertEquals(FASHION, StandardDatasets.resolvedDir("fashion-mnist", null));
        Dataset train = s.first();
        Dataset test = s.second();
        assertEquals(60000, train.rows());
        assertEquals(10000, test.rows());
        assertEquals(784, train.width());
        assertEquals(784, test.width());
        assertEquals(10, train.classes());
        assertEquals(10, train.distinctLabels());
        assertEquals(10, test.distinctLabels());
        // first labels of the official files: train 9 (ankle boot), 0, 0, 3; test 9, 2, 1, 1
        assertArrayEquals(new int[] {9, 0, 0, 3, 0, 2}, Arrays.copyOf(train.labels(), 6));
        assertArrayEquals(new int[] {9, 2, 1, 1, 6, 1}, Arrays.copyOf(test.labels(), 6));
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : train.features()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertEquals(0f, min);
        assertEquals(1f, max);
        // each class has 6000 training images
        int[] counts = new int[10];
        for (int l : train.labels()) {
            counts[l]++;
        }
        for (int c : counts) {
            assertEquals(6000, c);
        }
    }

    private void writeSet(Path d, int trainN, int trainLabelsN, int testN, int badLabel, boolean gz) throws IOException {
        Files.createDirectories(d);
        put(d, "train-images-idx3-ubyte", encode(Idx.UBYTE, new int[] {trainN, 2, 3}, ramp(trainN * 6)), gz);
        put(d, "train-labels-idx1-ubyte", encode(Idx.UBYTE, new int[] {trainLabelsN}, labels(trainLabelsN, badLabel)), gz);
        put(d, "t10k-images-idx3-ubyte", encode(Idx.UBYTE, new int[] {testN, 2, 3}, ramp(testN * 6)), gz);
        put(d, "t10k-labels-idx1-ubyte", encode(Idx.UBYTE, new int[] {testN}, labels(testN, -1)), gz);
    }

    private static void put(Path d, String name, byte[] bytes, boolean gz) throws IOException {
        Files.write(d.resolve(gz ? name + ".gz" : name), gz ? IdxTest.gzip(bytes) : bytes);
    }

    private static double[] ramp(int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 256;
        }
        return v;
    }

    private static double[] labels(int n, int badAt) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = i % 10;
        }
        if (badAt >= 0) {
            v[badAt] = 10;
        }
        return v;
    }

    @Test
    void smallSetFromADataDirPlainAndGzip() throws IOException {
        for (boolean gz : new boolean[] {false, true}) {
            Path d = dir.resolve("set" + gz);
            writeSet(d, 12, 12, 5, -1, gz);
            Dataset.Split s = StandardDatasets.load("mnist", d);
            assertEquals(d, StandardDatasets.resolvedDir("mnist", d));
            assertEquals(12, s.first().rows());
            assertEquals(5, s.second().rows());
            assertEquals(6, s.first().width());
            assertEquals(10, s.first().classes());
            assertEquals(7 / 255f, s.first().features()[7]);
            assertEquals("mnist-train", s.first().name());
        }
    }

    @Test
    void countMismatchAndLabelOutOfRangeNameTheLabelsFile() throws IOException {
        Path d1 = dir.resolve("count");
        writeSet(d1, 12, 11, 5, -1, false);
        assertBad(d1.resolve("train-labels-idx1-ubyte"), "bytes 4..7", () -> StandardDatasets.load("mnist", d1));
        Path d2 = dir.resolve("range");
        writeSet(d2, 12, 12, 5, 3, true);
        assertBad(d2.resolve("train-labels-idx1-ubyte.gz"), "byte 11 of the decompressed data",
                () -> StandardDatasets.load("mnist", d2));
    }

    @Test
    void missingFilesSayWhereItLookedAndHowToGetThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StandardDatasets.load("fashion-mnist", dir));
        String m = e.getMessage();
        assertTrue(m.contains(dir.toString()) && m.contains("apt-get install dataset-fashion-mnist")
                && m.contains("--data-dir") && !m.contains("\n"), m);
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> StandardDatasets.load("cifar", dir));
        assertTrue(u.getMessage().contains("fashion-mnist, mnist"), u.getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> StandardDatasets.load("mnist", dir)).getMessage()
                .contains("--data-dir"));
    }
}
