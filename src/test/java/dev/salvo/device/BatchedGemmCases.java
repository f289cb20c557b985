package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.Check;
import dev.salvo.device.ReferenceOps;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The batched and accumulating matmul cases of {@link DeviceContract}, run on any device: every
 * entry against {@link ReferenceOps} within {@link Tolerance#gemm}, and the memory between
 * entries untouched.
 *
 * <p>Inputs are fresh each run: the seed is {@code -Dsalvo.test.seed} or else the clock, and every
 * failure names it. Operands hold NaN between their entries (an element read that should not be
 * poisons a result); outputs hold {@link #SENTINEL} between entries (it must survive bit for bit)
 * and, inside them, NaN when the call overwrites (beta = 0 must never read it) or random old
 * values when it accumulates.
 */
final class BatchedGemmCases {

    /** Between the entries of z and y: must come back bit for bit. */
    static final float SENTINEL = 31337.25f;

    /** The run's seed: {@code -Dsalvo.test.seed=N} repeats a run. */
    static final long SEED = Long.getLong("salvo.test.seed", System.nanoTime());

    private BatchedGemmCases() {
    }

    /** One call: the shape, whether it has a bias, and its activation (IDENTITY: no y). */
    record Case(Gemm g, boolean bias, Activation act) {
        @Override
        public String toString() {
            return g.m() + "x" + g.n() + "x" + g.k() + (g.transA() ? " A^T" : "") + (g.transB() ? " B^T" : "") + " batch "
                    + g.batch() + " strides " + g.strideA() + "/" + g.strideB() + "/" + g.strideC() + " beta " + g.beta()
                    + (bias ? " +bias" : "") + (act == Activation.IDENTITY ? "" : " " + act);
        }
    }

    /**
     * Batch in {1, 3, 17} x K in {1, 7, 64, 1000} x the four transposes, shapes that are multiples
     * of no block size, cycling through the stride layouts (dense, shared A, shared B, gaps wider
     * than a matrix, overlapping A reads), overwrite and accumulate, and the epilogue (bias, ReLU).
     */
    static List<Case> cases() {
        int[][] mn = {{5, 3}, {13, 17}, {33, 17}, {1, 20}, {19, 1}};
        int[] ks = {1, 7, 64, 1000};
        int[] batches = {1, 3, 17};
        List<Case> list = new ArrayList<>();
        int i = 0;
        for (int k : ks) {
            for (int t = 0; t < 4; t++) {
                for (int batch : batches) {
                    int[] s = mn[i % mn.length];
                    Gemm g = new Gemm(s[0], s[1], k, (t & 1) != 0, (t & 2) != 0);
                    g = layout(g, batch, i % 5);
                    if ((i / 5) % 2 == 1) {
                        g = g.accumulate();
                    }
                    Activation act = i % 3 == 1 ? Activation.RELU : Activation.IDENTITY;
                    list.add(new Case(g, i % 3 != 0, act));
                    i++;
                }
            }
        }
        return list;
    }

    /** Zero-size dimensions and K = 0, batched with gaps, overwriting and accumulating, with a bias. */
    static List<Case> zeroSizeCases() {
        List<Case> list = new ArrayList<>();
        for (int beta = 0; beta <= 1; beta++) {
            for (Gemm g : List.of(new Gemm(0, 5, 3, false, false), new Gemm(4, 0, 3, false, true),
                    new Gemm(3, 4, 0, true, false), new Gemm(6, 2, 0, false, false))) {
                Gemm b = layout(g, 3, 3);
                list.add(new Case(beta == 1 ? b.accumulate() : b, true, Activation.RELU));
            }
        }
        return list;
    }

    /** Layout {@code mode}: 0 dense, 1 shared A, 2 shared B, 3 gaps everywhere, 4 overlapping A and shared B. */
    static Gemm layout(Gemm g, int batch, int mode) {
        long a = g.aMatrixLength();
        long b = g.bMatrixLength();
        long c = g.cMatrixLength();
        return switch (mode) {
            case 0 -> g.batched(batch);
            case 1 -> g.batched(batch, 0, b + 2, c);
            case 2 -> g.batched(batch, a, 0, c + 5);
            case 3 -> g.batched(batch, a + 3, b + 7, c + 11);
            default -> g.batched(batch, Math.max(1, a / 2), 0, c + 1);
        };
    }

    /** Runs {@code c} on {@code dev} and checks every entry, the gaps, and y. */
    static void check(Device dev, Case c) {
        Gemm g = c.g();
        Rng rng = new Rng(SEED ^ (31L * c.toString().hashCode()));
        String what = c + " (seed " + SEED + ")";
        double[] a = operand(rng, g.aLength(), g.batch(), g.strideA(), g.aMatrixLength(), 1);
        double[] b = operand(rng, g.bLength(), g.batch(), g.strideB(), g.bMatrixLength(), 1);
        double[] bias = c.bias() ? Check.random(rng, g.n(), 1) : null;
        boolean[] inC = entries(g.cLength(), g.batch(), g.strideC(), g.cMatrixLength());
        float[] z0 = new float[(int) g.cLength()];
        for (int i = 0; i < z0.length; i++) {
            z0[i] = !inC[i] ? SENTINEL : g.accumulates() ? (float) (2 * rng.nextDouble() - 1) : Float.NaN;
        }
        float[] y0 = new float[z0.length];
        for (int i = 0; i < y0.length; i++) {
            y0[i] = inC[i] ? Float.NaN : SENTINEL;
        }
        boolean withY = c.act() != Activation.IDENTITY;
        float[] z = new float[z0.length];
        float[] y = new float[z0.length];
        try (DeviceBuffer ab = upload(dev, a); DeviceBuffer bb = upload(dev, b);
             DeviceBuffer biasb = bias == null ? null : upload(dev, bias);
             DeviceBuffer zb = upload(dev, z0); DeviceBuffer yb = withY ? upload(dev, y0) : null) {
            dev.matmul(g, slice(ab, a.length), slice(bb, b.length), biasb, c.act(), slice(zb, z0.length),
                    yb == null ? null : slice(yb, y0.length));
            download(dev, zb, z);
            if (yb != null) {
                download(dev, yb, y);
            }
        }
        double[] z0d = new double[z0.length];
        for (int i = 0; i < z0.length; i++) {
            z0d[i] = z0[i];
        }
        for (int i = 0; i < z.length; i++) {
            if (!inC[i] && Float.floatToRawIntBits(z[i]) != Float.floatToRawIntBits(SENTINEL)) {
                fail(what + ": z[" + i + "], between entries, changed to " + z[i]);
            }
            if (withY && !inC[i] && Float.floatToRawIntBits(y[i]) != Float.floatToRawIntBits(SENTINEL)) {
                fail(what + ": y[" + i + "], between entries, changed to " + y[i]);
            }
        }
        double[] ref = ReferenceOps.matmul(g, a, b, bias, g.accumulates() ? z0d : null);
        Tolerance.Worst w = Tolerance.gemm(g, a, b, bias, z0d, ref, z);
        if (!w.pass()) {
            fail(what + ": " + w.describe());
        }
        if (withY) {
            double[] expect = new double[y.length];
            for (int i = 0; i < y.length; i++) {
                expect[i] = inC[i] ? c.act().apply(z[i]) : SENTINEL;
            }
            Check.elementwise(what + " epilogue " + c.act(), expect, y, y.length);
        }
    }

    /**
     * Beta = 1 keeps NaN and infinities of the old z (PyTorch's {@code addmm}): entries that held
     * NaN stay NaN, +Inf stays +Inf; the activation passes them on.
     */
    static void accumulatingKeepsNonFinite(Device dev) {
        Rng rng = new Rng(SEED + 17);
        Gemm g = Gemm.of(6, 9, 7).transposeB().batched(3, 6 * 7 + 1, 0, 6 * 9 + 2).accumulate();
        double[] a = operand(rng, g.aLength(), g.batch(), g.strideA(), g.aMatrixLength(), 1);
        double[] b = operand(rng, g.bLength(), g.batch(), g.strideB(), g.bMatrixLength(), 1);
        double[] bias = Check.random(rng, g.n(), 1);
        double[] z0 = Check.random(rng, (int) g.cLength(), 1);
        int[] nan = {0, 17, (int) g.strideC() + 5, (int) (2 * g.strideC()) + 53};
        int inf = (int) g.strideC() + 30;
        for (int i : nan) {
            z0[i] = Double.NaN;
        }
        z0[inf] = Double.POSITIVE_INFINITY;
        float[] z = new float[z0.length];
        float[] y = new float[z0.length];
        try (DeviceBuffer ab = upload(dev, a); DeviceBuffer bb = upload(dev, b); DeviceBuffer biasb = upload(dev, bias);
             DeviceBuffer zb = upload(dev, z0); DeviceBuffer yb = upload(dev, Check.nans(z0.length))) {
            dev.matmul(g, ab, bb, biasb, Activation.RELU, zb, yb);
            download(dev, zb, z);
            download(dev, yb, y);
        }
        double[] ref = ReferenceOps.matmul(g, a, b, bias, z0);
        boolean[] inC = entries(g.cLength(), g.batch(), g.strideC(), g.cMatrixLength());
        for (int i : nan) {
            assertEquals(Float.NaN, z[i], "seed " + SEED + ": NaN in the old z at " + i + " stays NaN");
            assertEquals(Float.NaN, y[i], "seed " + SEED + ": relu(NaN) is NaN at " + i);
        }
        assertEquals(Float.POSITIVE_INFINITY, z[inf], "seed " + SEED + ": +Inf in the old z stays +Inf");
        double[] refY = ReferenceOps.activation(Activation.RELU, ref);
        for (int i = 0; i < z.length; i++) {
            if (!inC[i]) {
                assertEquals(Float.floatToRawIntBits((float) z0[i]), Float.floatToRawIntBits(z[i]), "gap " + i);
                refY[i] = Double.NaN;
            }
        }
        Check.sameNonFinite("accumulating matmul with NaN/Inf in z (seed " + SEED + ")", ref, z, z.length);
        Check.sameNonFinite("relu epilogue of it (seed " + SEED + ")", refY, y, y.length);
    }

    /** Batch 0 reads and writes nothing, even through buffers too small for one matrix. */
    static void emptyBatchTouchesNothing(Device dev) {
        Gemm g = Gemm.of(4, 5, 6).batched(0, 24, 30, 20).accumulate();
        assertEquals(0, g.aLength());
        assertEquals(0, g.cLength());
        try (DeviceBuffer one = upload(dev, new float[] {SENTINEL}); DeviceBuffer y = upload(dev, new float[] {SENTINEL})) {
            dev.matmul(g, one, one, null, Activation.RELU, one, y);
            float[] got = new float[1];
            download(dev, one, got);
            assertEquals(SENTINEL, got[0]);
            download(dev, y, got);
            assertEquals(SENTINEL, got[0]);
        }
    }

    /** The same batched call twice gives bitwise the same z (a mix of layouts, accumulating). */
    static void reproducible(Device dev) {
        Rng rng = new Rng(SEED + 5);
        Gemm g = Gemm.of(21, 35, 130).transposeA().batched(9, 21 * 130 + 4, 0, 21 * 35 + 3).accumulate();
        double[] a = Check.random(rng, (int) g.aLength(), 1);
        double[] b = Check.random(rng, (int) g.bLength(), 1);
        double[] z0 = Check.random(rng, (int) g.cLength(), 1);
        float[][] runs = new float[2][z0.length];
        try (DeviceBuffer ab = upload(dev, a); DeviceBuffer bb = upload(dev, b); DeviceBuffer zb = dev.allocFloat(z0.length)) {
            for (float[] run : runs) {
                dev.upload(z0, zb);
                dev.matmul(g, ab, bb, null, Activation.IDENTITY, zb, null);
                download(dev, zb, run);
            }
        }
        assertArrayEquals(bits(runs[0]), bits(runs[1]), "seed " + SEED + ": the same batched call twice");
    }

    static int[] bits(float[] x) {
        int[] r = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Float.floatToRawIntBits(x[i]);
        }
        return r;
    }

    /** True for the elements inside one of the entries ({@code batch} matrices of {@code matrix} at {@code stride}). */
    static boolean[] entries(long length, int batch, long stride, long matrix) {
        boolean[] in = new boolean[(int) length];
        for (int e = 0; e < batch; e++) {
            Arrays.fill(in, (int) (e * stride), (int) (e * stride + matrix), true);
        }
        return in;
    }

    /** Random values in the entries, NaN between them. */
    static double[] operand(Rng rng, long length, int batch, long stride, long matrix, double scale) {
        boolean[] in = entries(length, batch, stride, matrix);
        double[] x = Check.random(rng, (int) length, scale);
        for (int i = 0; i < x.length; i++) {
            if (!in[i]) {
                x[i] = Double.NaN;
            }
        }
        return x;
    }

    /** A buffer of at least one element holding {@code x} (an empty array leaves its one element as allocated). */
    static DeviceBuffer upload(Device dev, double[] x) {
        DeviceBuffer buf = dev.allocFloat(Math.max(1, x.length));
        if (x.length > 0) {
            dev.upload(x, slice(buf, x.length));
        }
        return buf;
    }

    static DeviceBuffer upload(Device dev, float[] x) {
        DeviceBuffer buf = dev.allocFloat(Math.max(1, x.length));
        if (x.length > 0) {
            dev.upload(x, slice(buf, x.length));
        }
        return buf;
    }

    static DeviceBuffer slice(DeviceBuffer b, long n) {
        return n == 0 || n == b.length() ? b : b.slice(0, n);
    }

    static void download(Device dev, DeviceBuffer b, float[] dst) {
        if (dst.length > 0) {
            dev.download(slice(b, dst.length), dst);
        }
    }
}
