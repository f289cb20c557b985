package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.Check;
import dev.salvo.device.ReferenceOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.util.Rng;
import java.util.Arrays;

/**
 * The batched and accumulating matmul behaviour that the samples of {@link MatmulOps#MATMUL} (which
 * cover every layout, beta and the epilogue, see {@code MatmulSamples}) do not: NaN and infinities
 * in the old z, an empty batch through buffers smaller than one matrix, bitwise reproducibility.
 *
 * <p>Inputs are fresh each run: the seed is {@code -Dsalvo.test.seed} or else the clock, and every
 * failure names it. Operands hold NaN between their entries (an element read that should not be
 * poisons a result).
 */
final class BatchedGemmCases {

    /** Between the entries of z and y: must come back bit for bit. */
    static final float SENTINEL = 31337.25f;

    /** The run's seed: {@code -Dsalvo.test.seed=N} repeats a run. */
    static final long SEED = Long.getLong("salvo.test.seed", System.nanoTime());

    private BatchedGemmCases() {
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
            dev.run(MatmulOps.matmul(g, ab, bb, biasb, Activation.RELU, zb, yb));
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
            dev.run(MatmulOps.matmul(g, one, one, null, Activation.RELU, one, y));
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
                dev.run(MatmulOps.matmul(g, ab, bb, null, Activation.IDENTITY, zb, null));
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
