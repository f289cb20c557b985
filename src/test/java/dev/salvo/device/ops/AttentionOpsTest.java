package dev.salvo.device.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceContract;
import dev.salvo.device.Devices;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The attention family's semantics beyond the contract, on cpu and opencl (opencl skipped with the
 * reason when absent, failed when SALVO_REQUIRE lists it): the causal mask, NaN as PyTorch gives
 * it, the long row held to a relative bound, the embedding's bad ids, the scatter-add's
 * determinism (repeated runs, thread counts, cpu against opencl: the same bits) and accumulation,
 * and the head reshapes' round trip.
 */
class AttentionOpsTest {

    private static Device open(String selector) {
        if (selector.startsWith("opencl")) {
            DeviceContract.availableOrSkip("opencl");
        }
        return Devices.open(selector).device();
    }

    private static DeviceBuffer put(Device d, double[] x) {
        DeviceBuffer b = d.allocFloat(Math.max(1, x.length));
        d.upload(x, b.slice(0, x.length));
        return b;
    }

    private static float[] get(Device d, DeviceBuffer b, int n) {
        float[] h = new float[n];
        d.download(b.slice(0, n), h);
        return h;
    }

    private static double[] uniform(Random r, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * (2 * r.nextDouble() - 1));
        }
        return x;
    }

    private static double[] nans(int n) {
        double[] x = new double[n];
        java.util.Arrays.fill(x, Double.NaN);
        return x;
    }

    /** Runs the op made by {@code call} from the uploaded inputs, out poisoned; returns the output's n values. */
    private static float[] run(Device d, double[][] inputs, int outLength, Function<DeviceBuffer[], OpCall> call) {
        DeviceBuffer[] b = new DeviceBuffer[inputs.length + 1];
        try {
            for (int k = 0; k < inputs.length; k++) {
                b[k] = put(d, inputs[k]);
            }
            b[inputs.length] = put(d, nans(outLength));
            d.run(call.apply(b));
            return get(d, b[inputs.length], outLength);
        } finally {
            for (DeviceBuffer x : b) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }

    private static float[] softmax(Device d, int rows, int t, double scale, double[] s) {
        return run(d, new double[][] {s}, rows * t * t, b -> AttentionOps.causalSoftmax(rows, t, scale, b[0], b[1]));
    }

    private static float[] softmaxBackward(Device d, int rows, int t, double scale, double[] p, double[] dp) {
        return run(d, new double[][] {p, dp}, rows * t * t, b -> AttentionOps.causalSoftmaxBackward(rows, t, scale, b[0], b[1], b[2]));
    }

    // ---- causal softmax ---------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl:0"})
    void theMaskIgnoresWhateverLiesAboveTheDiagonal(String selector) {
        int rows = 3;
        int t = 137; // past one work-group
        double[] s = uniform(new Random(1), rows * t * t, 6);
        double[] dirty = s.clone();
        for (int g = 0; g < rows * t; g++) {
            for (int j = g % t + 1; j < t; j++) {
                dirty[g * t + j] = j % 3 == 0 ? Double.NaN : j % 3 == 1 ? Double.POSITIVE_INFINITY : 1e30;
            }
        }
        try (Device d = open(selector)) {
            float[] clean = softmax(d, rows, t, 0.3, s);
            assertArrayEquals(clean, softmax(d, rows, t, 0.3, dirty), "scores above the diagonal changed p");
            for (int g = 0; g < rows * t; g++) {
                int i = g % t;
                double sum = 0;
                for (int j = 0; j < t; j++) {
                    float v = clean[g * t + j];
                    if (j > i) {
                        assertEquals(0f, v, "masked p at row " + g + ", column " + j);
                    } else {
                        assertTrue(v > 0 && v <= 1, "p at row " + g + ", column " + j + " is " + v);
                        sum += v;
                    }
                }
                assertEquals(1.0, sum, 1e-5, "row " + g + " sums to 1");
            }
            // row 0 of each matrix sees one score: p = 1 exactly
            assertEquals(1f, clean[t * t]);
            // the backward ignores p and dp above the diagonal too
            double[] p = new double[clean.length];
            for (int k = 0; k < p.length; k++) {
                p[k] = clean[k];
            }
            double[] dp = uniform(new Random(2), p.length, 1);
            double[] dpDirty = dp.clone();
            double[] pDirty = p.clone();
            for (int g = 0; g < rows * t; g++) {
                for (int j = g % t + 1; j < t; j++) {
                    dpDirty[g * t + j] = Double.NaN;
                    pDirty[g * t + j] = Double.POSITIVE_INFINITY;
                }
            }
            float[] ds = softmaxBackward(d, rows, t, 0.3, p, dp);
            assertArrayEquals(ds, softmaxBackward(d, rows, t, 0.3, pDirty, dpDirty), "p or dp above the diagonal changed ds");
            for (int g = 0; g < rows * t; g++) {
                for (int j = g % t + 1; j < t; j++) {
                    assertEquals(0f, ds[g * t + j]);
                }
            }
        }
    }

    /**
     * PyTorch: a NaN or +inf in an unmasked score makes that row of softmax(masked_fill(s, -inf))
     * NaN, the masked entries too (max is NaN or inf - inf is NaN); rows that do not see it are
     * untouched. The backward: a NaN in dp below the diagonal makes that row's unmasked ds NaN,
     * the masked ds stay 0 (masked_fill's backward zeroes them).
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl:0"})
    void nanInAnUnmaskedScorePoisonsItsRowAsPyTorchDoes(String selector) {
        int rows = 2;
        int t = 9;
        double[] s = uniform(new Random(3), rows * t * t, 4);
        int m = 1;
        s[(m * t + 5) * t + 2] = Double.NaN; // matrix 1, row 5, column 2
        s[(m * t + 7) * t + 7] = Double.POSITIVE_INFINITY; // matrix 1, row 7, the diagonal
        try (Device d = open(selector)) {
            float[] p = softmax(d, rows, t, 0.5, s);
            for (int g = 0; g < rows * t; g++) {
                boolean poisoned = g == m * t + 5 || g == m * t + 7;
                for (int j = 0; j < t; j++) {
                    float v = p[g * t + j];
                    assertEquals(poisoned, Float.isNaN(v), "row " + g + ", column " + j + ": " + v);
                }
            }
            double[] clean = new double[p.length];
            float[] pc = softmax(d, rows, t, 0.5, uniform(new Random(4), rows * t * t, 4));
            for (int k = 0; k < p.length; k++) {
                clean[k] = pc[k];
            }
            double[] dp = uniform(new Random(5), p.length, 1);
            dp[(0 * t + 6) * t + 6] = Double.NaN; // matrix 0, row 6, diagonal: row 6 NaN
            dp[(0 * t + 3) * t + 8] = Double.NaN; // above the diagonal: ignored
            float[] ds = softmaxBackward(d, rows, t, 0.5, clean, dp);
            for (int g = 0; g < rows * t; g++) {
                for (int j = 0; j < t; j++) {
                    float v = ds[g * t + j];
                    if (j > g % t) {
                        assertEquals(0f, v, "masked ds at row " + g + ", column " + j);
                    } else {
                        assertEquals(g == 6, Float.isNaN(v), "ds at row " + g + ", column " + j + ": " + v);
                    }
                }
            }
        }
    }

    /** A 1024-long row held to 1e-5 relative: the contract's absolute part alone would let a dropped term pass there. */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl:0"})
    void aLongRowIsRightToARelativeBound(String selector) {
        int t = 1024;
        double scale = 0.25;
        double[] s = uniform(new Random(6), t * t, 16);
        Op.RefArgs a = new Op.RefArgs(2);
        a.n = new int[] {1, t};
        a.r = new double[] {scale};
        a.f[0] = s;
        a.f[1] = new double[t * t];
        AttentionOps.CAUSAL_SOFTMAX.reference(a);
        try (Device d = open(selector)) {
            float[] p = softmax(d, 1, t, scale, s);
            for (int i : new int[] {0, 1, 127, 128, 129, 500, 1023}) {
                for (int j = 0; j <= i; j++) {
                    double ref = a.f[1][i * t + j];
                    assertEquals(ref, p[i * t + j], 1e-5 * ref, "row " + i + ", column " + j);
                }
            }
        }
    }

    @Test
    void badScalesAndVocabulariesAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AttentionOps.CAUSAL_SOFTMAX.validate(new int[] {1, 4}, new double[] {Double.NaN}));
        assertTrue(e.getMessage().contains("scale must be finite"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AttentionOps.EMBEDDING_FORWARD.validate(new int[] {1, 4, (1 << 24) + 1}, new double[0]));
        assertTrue(e.getMessage().contains("vocab must be <= 2^24"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> AttentionOps.HEADS_SPLIT.validate(new int[] {1, -1, 3, 2, 4}, new double[0]));
        assertTrue(e.getMessage().contains("t must be >= 0"), e.getMessage());
    }

    // ---- embedding ----------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl:0"})
    void badIdsGiveNaNRows(String selector) {
        int dim = 3;
        int vocab = 4;
        double[] ids = {2, -1, 4, 2.5, Double.NaN, -0.0, 3, Double.POSITIVE_INFINITY, 1e9, 0};
        boolean[] good = {true, false, false, false, false, true, true, false, false, true};
        int rows = ids.length;
        double[] w = uniform(new Random(7), vocab * dim, 1);
        try (Device d = open(selector)) {
            float[] y = run(d, new double[][] {ids, w}, rows * dim,
                    b -> AttentionOps.embeddingForward(rows, dim, vocab, b[0], b[1], b[2]));
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < dim; c++) {
                    float v = y[r * dim + c];
                    if (good[r]) {
                        assertEquals((float) w[(int) ids[r] * dim + c], v, "row " + r);
                    } else {
                        assertTrue(Float.isNaN(v), "id " + ids[r] + " gave " + v);
                    }
                }
            }
        }
    }

    /**
     * The softmax rows (float32 on the Vector API path, float64 on the scalar one) give the same
     * bits on every thread count and on repeated runs, at a T that leaves vector tails.
     */
    @Test
    void causalSoftmaxIsBitwiseReproducibleAcrossThreadCounts() {
        int rows = 37;
        int t = 45;
        Random r = new Random(12);
        double[] s = uniform(r, rows * t * t, 16);
        double[] dp = uniform(r, rows * t * t, 1);
        float[] p0 = null;
        float[] ds0 = null;
        for (boolean simd : new boolean[] {true, false}) {
            for (int threads : new int[] {1, 2, 3}) {
                try (Device d = CpuProvider.open(CpuSettings.load().withThreads(threads).withSimd(simd))) {
                    for (int rep = 0; rep < 2; rep++) {
                        float[] p = softmax(d, rows, t, 0.25, s);
                        double[] pd = new double[p.length];
                        for (int k = 0; k < p.length; k++) {
                            pd[k] = p[k];
                        }
                        float[] ds = softmaxBackward(d, rows, t, 0.25, pd, dp);
                        if (threads == 1 && rep == 0) {
                            p0 = p;
                            ds0 = ds;
                        } else {
                            assertArrayEquals(p0, p, "softmax, simd " + simd + ", " + threads + " threads, run " + rep);
                            assertArrayEquals(ds0, ds, "backward, simd " + simd + ", " + threads + " threads, run " + rep);
                        }
                    }
                }
            }
        }
    }

    /** The scatter-add with ids repeated and bad: the same bits as a float32 loop over r in order, on every device and thread count. */
    @Test
    void embeddingBackwardIsBitwiseReproducible() {
        int rows = 777;
        int dim = 45;
        int vocab = 7;
        Random r = new Random(8);
        double[] ids = new double[rows];
        for (int k = 0; k < rows; k++) {
            ids[k] = k % 50 == 0 ? -1 : k % 61 == 0 ? Double.NaN : r.nextInt(vocab - 1); // row vocab-1 never hit
        }
        double[] dy = uniform(r, rows * dim, 1);
        double[] w0 = uniform(r, vocab * dim, 1);
        // the definition: one float32 chain per element, rows in increasing order
        float[] want0 = new float[vocab * dim];
        float[] want1 = new float[vocab * dim];
        for (int k = 0; k < want1.length; k++) {
            want1[k] = (float) w0[k];
        }
        for (int k = 0; k < rows; k++) {
            int v = AttentionOps.tokenRow(ids[k], vocab);
            if (v < 0) {
                continue;
            }
            for (int c = 0; c < dim; c++) {
                want0[v * dim + c] += (float) dy[k * dim + c];
                want1[v * dim + c] += (float) dy[k * dim + c];
            }
        }
        for (int threads : new int[] {1, 2, 3}) {
            try (Device d = CpuProvider.open(CpuSettings.load().withThreads(threads))) {
                checkScatter(d, rows, dim, vocab, ids, dy, w0, want0, want1, "cpu, " + threads + " threads");
            }
        }
        DeviceContract.availableOrSkip("opencl");
        try (Device d = Devices.open("opencl:0").device()) {
            checkScatter(d, rows, dim, vocab, ids, dy, w0, want0, want1, "opencl");
        }
    }

    private static void checkScatter(Device d, int rows, int dim, int vocab, double[] ids, double[] dy, double[] w0,
                                     float[] want0, float[] want1, String where) {
        for (int rep = 0; rep < 2; rep++) {
            // accumulate = 0 over a NaN-poisoned dweight: every element written, the unhit row 0
            float[] got0 = scatter(d, rows, dim, vocab, false, ids, dy, nans(vocab * dim));
            assertArrayEquals(want0, got0, where + ", accumulate=0, run " + rep);
            for (int c = 0; c < dim; c++) {
                assertEquals(0f, got0[(vocab - 1) * dim + c]);
            }
            assertArrayEquals(want1, scatter(d, rows, dim, vocab, true, ids, dy, w0), where + ", accumulate=1, run " + rep);
        }
    }

    private static float[] scatter(Device d, int rows, int dim, int vocab, boolean acc, double[] ids, double[] dy, double[] w) {
        try (DeviceBuffer bi = put(d, ids); DeviceBuffer bd = put(d, dy); DeviceBuffer bw = put(d, w)) {
            d.run(AttentionOps.embeddingBackward(rows, dim, vocab, acc, bi, bd, bw));
            return get(d, bw, vocab * dim);
        }
    }

    // ---- heads ----------------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "opencl:0"})
    void headsSplitAndMergeAreInversesBitForBit(String selector) {
        int batch = 3;
        int t = 11;
        int heads = 4;
        int hd = 7;
        try (Device d = open(selector)) {
            for (int parts : new int[] {1, 3}) {
                int n = batch * t * parts * heads * hd;
                double[] x = uniform(new Random(9 + parts), n, 1);
                float[] y = run(d, new double[][] {x}, n, b -> AttentionOps.headsSplit(batch, t, parts, heads, hd, b[0], b[1]));
                // element (b=2, t=5, part=parts-1, h=3, d=6) of x lands at (part, b, h, t, d) of y
                int p = parts - 1;
                assertEquals((float) x[(((2 * t + 5) * parts + p) * heads + 3) * hd + 6], y[(((p * batch + 2) * heads + 3) * t + 5) * hd + 6]);
                double[] yd = new double[n];
                for (int k = 0; k < n; k++) {
                    yd[k] = y[k];
                }
                float[] back = run(d, new double[][] {yd}, n, b -> AttentionOps.headsMerge(batch, t, parts, heads, hd, b[0], b[1]));
                for (int k = 0; k < n; k++) {
                    assertEquals(Float.floatToRawIntBits((float) x[k]), Float.floatToRawIntBits(back[k]), "parts " + parts + ", element " + k);
                }
            }
        }
    }
}
