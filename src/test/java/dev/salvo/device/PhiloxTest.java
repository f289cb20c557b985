package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.ops.RandomOps;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Philox4x32-10 against the known-answer vectors of the Random123 distribution
 * ({@code kat_vectors}, philox4x32_10), the statistics of the dropout mask, and dropout's mask on
 * the cpu and OpenCL providers: bitwise the reference's zero pattern.
 */
class PhiloxTest {

    private static int[] words(long... w) {
        int[] out = new int[w.length];
        for (int i = 0; i < w.length; i++) {
            out[i] = (int) w[i];
        }
        return out;
    }

    @Test
    void knownAnswerVectors() {
        assertArrayEquals(words(0x6627e8d5L, 0xe169c58dL, 0xbc57ac4cL, 0x9b00dbd8L), Philox.block(0, 0, 0, 0, 0, 0));
        assertArrayEquals(words(0x408f276dL, 0x41c83b0eL, 0xa20bc7c6L, 0x6d5451fdL),
                Philox.block(-1, -1, -1, -1, -1, -1));
        assertArrayEquals(words(0xd16cfe09L, 0x94fdccebL, 0x5001e420L, 0x24126ea1L),
                Philox.block(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344));
    }

    @Test
    void theAllocationFreeFormWritesTheSameWordsAtAnOffset() {
        int[] out = new int[7];
        Philox.block(0xa4093822, 0x299f31d0, 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, out, 3);
        assertArrayEquals(words(0, 0, 0, 0xd16cfe09L, 0x94fdccebL, 0x5001e420L, 0x24126ea1L), out);
    }

    @Test
    void unitIsTheTop24BitsInZeroOne() {
        assertEquals(0f, Philox.unit(0));
        assertEquals(0f, Philox.unit(0xff));
        assertEquals(0x1p-24f, Philox.unit(0x100));
        assertEquals(1f - 0x1p-24f, Philox.unit(-1));
        assertEquals(0.5f, Philox.unit(0x8000_0000));
    }

    /** The fraction of elements dropped with p = 0.3 over 10^6 elements (6 sigma is 0.0028). */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 99})
    void maskFractionMatchesP(int step) {
        int n = 1_000_000;
        float p = 0.3f;
        int[] w = new int[4];
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            if ((i & 3) == 0) {
                Philox.block(20261123, 7, i >>> 2, step, 0, 0, w, 0);
            }
            if (!Philox.keep(w, 0, i, p)) {
                dropped++;
            }
        }
        double frac = dropped / (double) n;
        assertEquals(0.3, frac, 0.003, "dropped fraction at step " + step);
    }

    @Test
    void stepsAndSeedsDrawDifferentMasks() {
        assertNotEquals(Philox.block(1, 2, 0, 0, 0, 0)[0], Philox.block(1, 2, 0, 1, 0, 0)[0]);
        assertNotEquals(Philox.block(1, 2, 0, 0, 0, 0)[0], Philox.block(1, 3, 0, 0, 0, 0)[0]);
    }

    @Test
    void pOfOneOrMoreOrNaNIsRejectedWithTheReason() {
        Op op = RandomOps.DROPOUT_FORWARD;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> op.validate(new int[] {10, 1, 2, 3, 0}, new double[] {1.0}));
        assertTrue(e.getMessage().contains("p = 1.0 drops every element"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> op.validate(new int[] {10, 1, 2, 3, 0}, new double[] {0.999999999}));
        assertThrows(IllegalArgumentException.class, () -> op.validate(new int[] {10, 1, 2, 3, 0}, new double[] {-0.1}));
        assertThrows(IllegalArgumentException.class, () -> op.validate(new int[] {10, 1, 2, 3, 0}, new double[] {Double.NaN}));
        op.validate(new int[] {10, -1, Integer.MIN_VALUE, -5, 0}, new double[] {0.0}); // seeds and step may be anything
        e = assertThrows(IllegalArgumentException.class, () -> op.validate(new int[] {10, 1, 2, 3, -4}, new double[] {0.5}));
        assertTrue(e.getMessage().contains("first = -4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> op.validate(new int[] {10, 1, 2, 3, Integer.MAX_VALUE - 8}, new double[] {0.5}));
    }

    @Test
    void dropoutMaskIsBitwiseTheReferencesOnCpu() {
        maskMatchesReference("cpu");
    }

    @Test
    void dropoutMaskIsBitwiseTheReferencesOnOpenCl() {
        DeviceContract.availableOrSkip("opencl");
        maskMatchesReference("opencl:0");
    }

    @Test
    void shardsDrawTheirSliceOfTheWholeBatchOnCpu() {
        shardsDrawTheirSlice("cpu");
    }

    @Test
    void shardsDrawTheirSliceOfTheWholeBatchOnOpenCl() {
        DeviceContract.availableOrSkip("opencl");
        shardsDrawTheirSlice("opencl:0");
    }

    /**
     * Data-parallel ranks draw masks for their rows of a global batch: dropout over elements
     * {@code [lo, hi)} with {@code first = lo} and a random flip over samples {@code [lo, hi)} with
     * {@code first = lo} give, bit for bit, that slice of the whole batch's result (also the
     * reference's), for cuts on and off the Philox blocks of 4.
     */
    private static void shardsDrawTheirSlice(String selector) {
        Random r = new Random(11);
        try (Device dev = Devices.open(selector).device()) {
            int n = 1031;
            double[] x = new double[n];
            for (int i = 0; i < n; i++) {
                x[i] = r.nextGaussian();
            }
            Op.Sample whole = new Op.Sample("whole", new int[] {n, 3, 4, 5, 0}, new double[] {0.4}, new Object[] {x, new double[n]});
            float[] all = (float[]) OpCheck.deviceRun(dev, RandomOps.DROPOUT_FORWARD, whole)[1];
            for (int[] cut : new int[][] {{0, 515}, {515, 1031}, {4, 8}, {5, 6}, {7, 1030}, {1030, 1031}, {1, 4}}) {
                int lo = cut[0];
                int len = cut[1] - lo;
                Op.Sample part = new Op.Sample("shard", new int[] {len, 3, 4, 5, lo}, new double[] {0.4},
                        new Object[] {java.util.Arrays.copyOfRange(x, lo, lo + len), new double[len]});
                float[] got = (float[]) OpCheck.deviceRun(dev, RandomOps.DROPOUT_FORWARD, part)[1];
                double[] ref = OpCheck.referenceRun(RandomOps.DROPOUT_FORWARD, part, false).f[1];
                for (int i = 0; i < len; i++) {
                    assertEquals(Float.floatToRawIntBits(all[lo + i]), Float.floatToRawIntBits(got[i]),
                            selector + " dropout shard [" + lo + ", " + cut[1] + ") element " + i);
                    assertEquals(all[lo + i], (float) ref[i], "reference, dropout shard from " + lo + " element " + i);
                }
            }
            int samples = 23;
            int per = 2 * 3 * 5;
            double[] images = new double[samples * per];
            for (int i = 0; i < images.length; i++) {
                images[i] = i;
            }
            Op.Sample batch = new Op.Sample("whole", new int[] {samples, 2, 3, 5, 8, 9, 7, 0}, new double[0],
                    new Object[] {images, new double[images.length]});
            float[] flipped = (float[]) OpCheck.deviceRun(dev, RandomOps.HFLIP, batch)[1];
            for (int[] cut : new int[][] {{0, 12}, {12, 23}, {3, 5}, {22, 23}}) {
                int lo = cut[0];
                int count = cut[1] - lo;
                Op.Sample part = new Op.Sample("shard", new int[] {count, 2, 3, 5, 8, 9, 7, lo}, new double[0],
                        new Object[] {java.util.Arrays.copyOfRange(images, lo * per, cut[1] * per), new double[count * per]});
                float[] got = (float[]) OpCheck.deviceRun(dev, RandomOps.HFLIP, part)[1];
                assertArrayEquals(java.util.Arrays.copyOfRange(flipped, lo * per, cut[1] * per), got,
                        selector + " hflip shard [" + lo + ", " + cut[1] + ")");
            }
        }
    }

    /** Forward and backward, several seeds, steps and p, n not a multiple of 4: zeros exactly where the reference has them. */
    private static void maskMatchesReference(String selector) {
        Random r = new Random(5);
        try (Device dev = Devices.open(selector).device()) {
            for (Op op : java.util.List.of(RandomOps.DROPOUT_FORWARD, RandomOps.DROPOUT_BACKWARD)) {
                for (double p : new double[] {0, 0.25, 0.5, 0.9}) {
                    for (int[] n : new int[][] {{4099, 1, 2, 0, 0}, {4099, 1, 2, 1, 0}, {10_001, -77, 0x12345678, 31, 0}, {3, 9, 9, 9, 0},
                            {4099, 1, 2, 1, 8195}, {3, 9, 9, 9, 1}}) {
                        double[] x = new double[n[0]];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = 0.5 + r.nextDouble(); // never zero: a zero out is the mask's
                        }
                        Op.Sample s = new Op.Sample("mask", n, new double[] {p}, new Object[] {x, new double[n[0]]});
                        float[] got = (float[]) OpCheck.deviceRun(dev, op, s)[1];
                        double[] ref = OpCheck.referenceRun(op, s, false).f[1];
                        int zeros = 0;
                        for (int i = 0; i < ref.length; i++) {
                            int k = i;
                            assertEquals(ref[i] == 0, got[i] == 0, () -> selector + " " + op + " p=" + p + " n=" + n[0]
                                    + " element " + k + ": " + got[k] + " vs reference " + ref[k]);
                            zeros += ref[i] == 0 ? 1 : 0;
                        }
                        if (p == 0) {
                            assertEquals(0, zeros, "p = 0 keeps every element");
                        } else if (n[0] > 1000) {
                            assertEquals(p, zeros / (double) n[0], 0.05, "dropped fraction");
                        }
                    }
                }
            }
        }
    }
}
