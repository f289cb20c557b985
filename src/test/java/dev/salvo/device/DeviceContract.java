package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.Check;
import dev.salvo.check.ConsistencyCheck;
import dev.salvo.data.Dataset;
import dev.salvo.device.cpu.ReferenceDevice;
import dev.salvo.device.ReferenceOps;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.device.ops.Ops;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The device contract every provider runs unchanged: each op against {@link ReferenceOps} within
 * the bounds of the design document ({@code src/site/markdown/design.md}), buffer lifetime, residency (exact transfer counts), determinism and
 * training consistency against the float64 {@link ReferenceDevice}.
 *
 * <p>A subclass names its device with {@link #selector()}. When that device is unavailable the
 * tests are skipped with the reason, unless {@code SALVO_REQUIRE} (comma-separated provider
 * names, or {@code -Dsalvo.require}) lists the provider or the contract's {@link #requirement()}:
 * then they fail, whether the skip comes from {@link #skipReason()} or from opening the device.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class DeviceContract {

    /** Device selector, e.g. {@code cpu} or {@code opencl:0}. */
    protected abstract String selector();

    /** Opens a fresh device (the default goes through {@link Devices#open}). */
    protected Device openDevice() {
        return Devices.open(selector()).device();
    }

    protected Device dev;
    private final Rng rng = new Rng(20261123);

    /** A reason to skip before trying to open (for example "no OpenCL GPU"), or null. */
    protected String skipReason() {
        return null;
    }

    /**
     * The name in {@code SALVO_REQUIRE} (or {@code -Dsalvo.require}) that makes this contract's
     * device required: its provider by default; a contract that picks a kind of device may answer
     * to a narrower name ({@code opencl-gpu}).
     */
    protected String requirement() {
        return selector().split(":")[0];
    }

    /** Why this class's tests are skipped (reported on every test), or null. */
    private String unavailable;

    @BeforeAll
    void openOnce() {
        unavailable = skipReason();
        if (unavailable != null) {
            // a skip decided before opening is still a skip: a required device must fail here too
            if (required(requirement())) {
                fail("SALVO_REQUIRE lists " + requirement() + " but it is unavailable: " + unavailable);
            }
            return;
        }
        String provider = selector().split(":")[0];
        try {
            dev = openDevice();
        } catch (DeviceException.Unavailable e) {
            if (required(provider) || required(requirement())) {
                fail("SALVO_REQUIRE lists " + (required(provider) ? provider : requirement()) + " but it is unavailable: "
                        + e.getMessage());
            }
            unavailable = selector() + " unavailable: " + e.reason();
        }
    }

    /** Each test is reported as skipped, with the reason, when the device is missing. */
    @BeforeEach
    void needDevice() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
    }

    @AfterAll
    void closeOnce() {
        if (dev != null) {
            dev.close();
        }
    }

    /**
     * Every declared op ({@link dev.salvo.device.ops.Ops#ALL}) on every sample its declaration
     * draws (fresh random inputs, outputs poisoned with NaN), and once more with a NaN planted in a
     * float input: each output within the op's tolerance of the float64 reference, NaN where the
     * reference has NaN.
     */
    @TestFactory
    Stream<DynamicTest> declaredOps() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
        long seed = System.nanoTime();
        java.util.Random r = new java.util.Random(seed);
        List<DynamicTest> tests = new ArrayList<>();
        for (Op op : Ops.ALL) {
            for (Op.Sample s : op.samples(r)) {
                for (Op.Sample v : List.of(s, OpCheck.withNaN(op, s, r))) {
                    tests.add(DynamicTest.dynamicTest(op + " " + v.label(), () -> {
                        for (OpCheck.Result res : OpCheck.check(dev, op, v)) {
                            assertTrue(res.pass(), res.describe() + " (seed " + seed + ")");
                        }
                    }));
                }
            }
        }
        return tests.stream();
    }

    /**
     * Every declared op on views: the first sample of each op once on buffers of its own (offset 0)
     * and once with each buffer a slice at a different offset into a larger buffer, whose other
     * elements hold a sentinel. The outputs must be bitwise the same and the elements around the
     * slices untouched: the offsets reach every body and kernel.
     */
    @TestFactory
    Stream<DynamicTest> declaredOpsOnSlices() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
        java.util.Random r = new java.util.Random(20261124);
        List<DynamicTest> tests = new ArrayList<>();
        for (Op op : Ops.ALL) {
            Op.Sample s = op.samples(r).get(0);
            tests.add(DynamicTest.dynamicTest(op + " " + s.label() + " on slices", () -> onSlices(op, s)));
        }
        return tests.stream();
    }

    private static final int SENTINEL = 7777;

    private void onSlices(Op op, Op.Sample s) {
        Object[] plain = OpCheck.deviceRun(dev, op, s);
        int n = op.bufferCount();
        DeviceBuffer[] roots = new DeviceBuffer[n];
        DeviceBuffer[] views = new DeviceBuffer[n];
        try {
            for (int b = 0; b < n; b++) {
                int off = 3 + 2 * b;
                if (s.data()[b] instanceof double[] x) {
                    double[] h = new double[off + x.length + 5];
                    Arrays.fill(h, SENTINEL);
                    System.arraycopy(x, 0, h, off, x.length);
                    roots[b] = put(h);
                    views[b] = roots[b].slice(off, x.length);
                } else {
                    int[] x = (int[]) s.data()[b];
                    int[] h = new int[off + x.length + 5];
                    Arrays.fill(h, SENTINEL);
                    System.arraycopy(x, 0, h, off, x.length);
                    roots[b] = putInts(h);
                    views[b] = roots[b].slice(off, x.length);
                }
            }
            dev.run(op.call(views, s.n(), s.r()));
            for (int b = 0; b < n; b++) {
                int off = 3 + 2 * b;
                String what = op + " " + s.label() + ": " + op.buffer(b).name();
                if (plain[b] instanceof float[] want) {
                    float[] got = get(roots[b]);
                    for (int k = 0; k < got.length; k++) {
                        boolean inside = k >= off && k < off + want.length;
                        float expect = inside ? want[k - off] : SENTINEL;
                        assertEquals(Float.floatToIntBits(expect), Float.floatToIntBits(got[k]),
                                what + (inside ? " element " + (k - off) : " wrote outside its slice at " + k));
                    }
                } else {
                    int[] want = (int[]) plain[b];
                    int[] got = new int[(int) roots[b].length()];
                    dev.download(roots[b], got);
                    for (int k = 0; k < got.length; k++) {
                        boolean inside = k >= off && k < off + want.length;
                        assertEquals(inside ? want[k - off] : SENTINEL, got[k],
                                what + (inside ? " element " + (k - off) : " wrote outside its slice at " + k));
                    }
                }
            }
        } finally {
            for (DeviceBuffer b : roots) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }

    /** True when {@code SALVO_REQUIRE} (or {@code -Dsalvo.require}) lists {@code provider}: its absence must fail, not skip. */
    public static boolean required(String provider) {
        String req = System.getProperty("salvo.require", System.getenv("SALVO_REQUIRE"));
        return req != null && Arrays.stream(req.split(",")).map(s -> s.trim().toLowerCase(Locale.ROOT)).anyMatch(provider::equals);
    }

    /**
     * Skips the calling test (with the reason) when {@code provider} is unavailable, or fails it
     * when {@code SALVO_REQUIRE} lists the provider: CI never quietly skips a provider it has.
     */
    public static void availableOrSkip(String provider) {
        Probe p = Devices.probeAll().stream().filter(x -> x.provider().equals(provider))
                .findFirst().orElseThrow(() -> new AssertionError("no provider named " + provider));
        if (!p.isAvailable()) {
            if (required(provider)) {
                throw new AssertionError("SALVO_REQUIRE lists " + provider + " but it is unavailable: " + p.unavailableReason());
            }
            Assumptions.abort(provider + " unavailable: " + p.unavailableReason());
        }
    }

    // ---- helpers --------------------------------------------------------------------------

    protected DeviceBuffer put(double[] x) {
        DeviceBuffer b = dev.allocFloat(x.length);
        dev.upload(x, b);
        return b;
    }

    protected DeviceBuffer putInts(int[] x) {
        DeviceBuffer b = dev.allocInt(x.length);
        dev.upload(x, b);
        return b;
    }

    /** An output buffer poisoned with NaN so an unwritten element fails. */
    protected DeviceBuffer poisoned(int n) {
        DeviceBuffer b = dev.allocFloat(n);
        dev.upload(Check.nans(n), b);
        return b;
    }

    protected float[] get(DeviceBuffer b) {
        float[] f = new float[(int) b.length()];
        dev.download(b, f);
        return f;
    }

    private static double[] d(float[] f) {
        double[] x = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            x[i] = f[i];
        }
        return x;
    }

    // ---- host staging ---------------------------------------------------------------------

    /** Staging buffers and FloatBuffer transfers: offsets, slices, NaN kept, position and limit untouched ({@link HostStagingChecks}). */
    @Test
    void hostStagingTransfers() {
        HostStagingChecks.check(dev);
    }

    // ---- matmul (shapes, epilogues, batches and beta are samples of MatmulOps.MATMUL) --------

    @Test
    void matmulWithZeroSizedDimensions() {
        for (Gemm g : List.of(new Gemm(0, 5, 3, false, false), new Gemm(4, 0, 3, false, true), new Gemm(3, 4, 0, true, false))) {
            double[] a = Check.random(rng, (int) g.aLength(), 1);
            double[] b = Check.random(rng, (int) g.bLength(), 1);
            double[] bias = Check.random(rng, g.n(), 1);
            try (DeviceBuffer ab = dev.allocFloat(Math.max(1, a.length)); DeviceBuffer bb = dev.allocFloat(Math.max(1, b.length));
                 DeviceBuffer biasb = put(bias.length == 0 ? new double[1] : bias);
                 DeviceBuffer z = poisoned(Math.max(1, (int) g.cLength()))) {
                dev.upload(a, ab.slice(0, a.length));
                dev.upload(b, bb.slice(0, b.length));
                dev.run(MatmulOps.matmul(g, ab, bb, biasb, Activation.IDENTITY, z, null));
                float[] got = get(z);
                for (int i = 0; i < g.cLength(); i++) {
                    assertEquals((float) bias[i % g.n()], got[i], 0.0, g + ": K = 0 gives the bias");
                }
                if (g.cLength() == 0) {
                    assertTrue(Float.isNaN(got[0]), g + " wrote outside an empty output");
                }
            }
        }
    }

    @Test
    void matmulOnSlicesUsesOffsets() {
        Gemm g = new Gemm(9, 11, 13, true, false);
        double[] a = Check.random(rng, (int) g.aLength() + 5, 1);
        double[] b = Check.random(rng, (int) g.bLength() + 3, 1);
        try (DeviceBuffer ab = put(a); DeviceBuffer bb = put(b); DeviceBuffer z = poisoned((int) g.cLength() + 4)) {
            dev.run(MatmulOps.matmul(g, ab.slice(5, g.aLength()), bb.slice(3, g.bLength()), null, Activation.IDENTITY,
                    z.slice(4, g.cLength()), null));
            double[] as = Arrays.copyOfRange(a, 5, a.length);
            double[] bs = Arrays.copyOfRange(b, 3, b.length);
            float[] got = get(z);
            assertTrue(Float.isNaN(got[3]), "wrote before the output slice");
            Check.gemm("sliced matmul", g, as, bs, null, ReferenceOps.matmul(g, as, bs, null), Arrays.copyOfRange(got, 4, got.length));
        }
    }

    // ---- batched and accumulating matmul (the cases are in BatchedGemmCases) -----------------

    @Test
    void emptyBatchedMatmulTouchesNothing() {
        BatchedGemmCases.emptyBatchTouchesNothing(dev);
    }

    @Test
    void accumulatingMatmulKeepsNaNAndInfinityOfTheOldZ() {
        BatchedGemmCases.accumulatingKeepsNonFinite(dev);
    }

    @Test
    void batchedMatmulIsBitwiseReproducible() {
        BatchedGemmCases.reproducible(dev);
    }

    // ---- elementwise ------------------------------------------------------------------------

    /**
     * What the activations' declared samples do not cover: aliasing. Backward in place on dy (the
     * dense layer's use) and forward in place on x, with NaN and infinities planted (PyTorch's
     * semantics, see {@link Activation}: a NaN gradient stays NaN wherever the activation passes
     * gradient; ReLU's backward is a select, 0 for z <= 0 even when dy is NaN).
     */
    @ParameterizedTest
    @EnumSource(Activation.class)
    void activationsInPlace(Activation act) {
        int n = 1237;
        double[] x = withNonFinite(n, 6);
        double[] dy = Check.random(rng, n, 2);
        for (int i = 0; i < n; i += 5) {
            dy[i] = i % 3 == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
        }
        try (DeviceBuffer xb = put(x); DeviceBuffer dyb = put(dy)) {
            dev.run(ElementwiseOps.activationBackward(act, xb, dyb, dyb));
            Check.sameNonFinite(act + " backward in place", ReferenceOps.activationBackward(act, x, dy), get(dyb), n);
            dev.run(ElementwiseOps.activationForward(act, xb, xb));
            Check.sameNonFinite(act + " forward in place", ReferenceOps.activation(act, x), get(xb), n);
        }
    }

    /**
     * A label or gather index out of range never reads outside its buffer: the kernel providers
     * write a NaN loss (softmax_xent) and NaN / -1 rows (gather) and go on, the CPU provider throws
     * {@link IndexOutOfBoundsException} (see {@link RowsOps}). Here the rows past the source's
     * end hold finite values an out-of-bounds read would pick up.
     */
    @Test
    void outOfRangeLabelsAndIndicesNeverReadOutside() {
        boolean kernels = dev instanceof dev.salvo.kernel.KernelDevice;
        int[] idx = {1, 3, -1, 0};
        try (DeviceBuffer src = put(new double[] {1, 2, 3, 4, 5, 6, 7, 8}); DeviceBuffer isrc = putInts(new int[] {1, 2, 3, 4, 5, 6, 7, 8});
             DeviceBuffer ib = putInts(idx); DeviceBuffer dst = poisoned(8); DeviceBuffer idst = putInts(new int[8]);
             DeviceBuffer x = put(new double[] {0.5, -1, 2, 0.25, 1, 1}); DeviceBuffer lb = putInts(new int[] {1, 2, 3});
             DeviceBuffer loss = poisoned(3); DeviceBuffer dx = poisoned(6)) {
            OpCall gf = RowsOps.gatherRows(4, 2, src.slice(0, 6), ib, dst);
            OpCall gi = RowsOps.gatherRows(4, 2, isrc.slice(0, 6), ib, idst);
            OpCall xent = RowsOps.softmaxCrossEntropy(3, 2, x, lb.slice(0, 3), 1.0, loss, dx);
            if (!kernels) {
                assertThrows(IndexOutOfBoundsException.class, () -> dev.run(gf));
                assertThrows(IndexOutOfBoundsException.class, () -> dev.run(gi));
                assertThrows(IndexOutOfBoundsException.class, () -> dev.run(xent));
                return;
            }
            dev.run(gf);
            dev.run(gi);
            dev.run(xent);
            float[] f = get(dst);
            int[] i = new int[8];
            dev.download(idst, i);
            assertArrayEquals(new float[] {3, 4, Float.NaN, Float.NaN, Float.NaN, Float.NaN, 1, 2}, f);
            assertArrayEquals(new int[] {3, 4, -1, -1, -1, -1, 1, 2}, i);
            float[] l = get(loss);
            assertTrue(Float.isFinite(l[0]) && Float.isNaN(l[1]), "label 2 of 2 classes: loss " + Arrays.toString(l));
        }
    }

    /** softmax_xent allows dlogits to be the logits buffer (the trainer's in-place use). */
    @Test
    void softmaxCrossEntropyInPlaceMatchesSeparateBuffers() {
        for (int[] shape : new int[][] {{33, 3}, {37, 23}, {40, 10}}) {
            int r = shape[0];
            int c = shape[1];
            double[] x = Check.random(rng, r * c, 10);
            int[] labels = new int[r];
            for (int i = 0; i < r; i++) {
                labels[i] = rng.nextInt(c);
            }
            try (DeviceBuffer xb = put(x); DeviceBuffer lb = putInts(labels); DeviceBuffer loss = poisoned(r);
                 DeviceBuffer dx = poisoned(r * c); DeviceBuffer inPlace = put(x); DeviceBuffer loss2 = poisoned(r)) {
                dev.run(RowsOps.softmaxCrossEntropy(r, c, xb, lb, 1.0 / r, loss, dx));
                dev.run(RowsOps.softmaxCrossEntropy(r, c, inPlace, lb, 1.0 / r, loss2, inPlace));
                float[] separate = get(dx);
                float[] aliased = get(inPlace);
                for (int i = 0; i < separate.length; i++) {
                    int at = i;
                    assertEquals(Float.floatToIntBits(separate[i]), Float.floatToIntBits(aliased[i]),
                            () -> r + "x" + c + " element " + at + ": separate " + separate[at] + ", in place " + aliased[at]);
                }
                Check.elementwise("cross-entropy loss in place", ReferenceOps.softmaxCrossEntropy(r, c, x, labels, 1.0 / r).rowLoss(), get(loss2), r);
            }
        }
    }

    @Test
    void fillCopyScale() {
        int r = 41;
        int c = 13;
        double[] x = Check.random(rng, r * c, 1);
        try (DeviceBuffer xb = put(x); DeviceBuffer g = poisoned(25 * c)) {
            dev.run(ElementwiseOps.fill(g, 2.5));
            float[] filled = get(g);
            for (float v : filled) {
                assertEquals(2.5f, v);
            }
            dev.run(ElementwiseOps.copy(xb.slice(0, 100), g.slice(7, 100)));
            dev.run(ElementwiseOps.scale(g.slice(7, 100), -0.5));
            float[] copied = get(g);
            assertEquals(2.5f, copied[6]);
            assertEquals(2.5f, copied[107]);
            for (int i = 0; i < 100; i++) {
                assertEquals((float) (-0.5 * (float) x[i]), copied[7 + i], 0f);
            }
        }
    }

    // ---- non-finite values (PyTorch's semantics; see Activation) ---------------------------------

    /** Poison for the non-finite tests: an element left unwritten shows as this, not as a NaN that was expected. */
    private static final float UNWRITTEN = 7777f;

    private DeviceBuffer unwritten(int n) {
        DeviceBuffer b = dev.allocFloat(n);
        float[] f = new float[n];
        Arrays.fill(f, UNWRITTEN);
        dev.upload(f, b);
        return b;
    }

    /** Random values with NaN, +inf and -inf planted throughout (vector bodies and tails alike). */
    private double[] withNonFinite(int n, double scale) {
        return ConsistencyCheck.plantNonFinite(Check.random(rng, n, scale));
    }

    /** A NaN weight poisons every output it touches, through the fused epilogue too; 0 * NaN is NaN (no zero skipping). */
    @ParameterizedTest
    @EnumSource(Activation.class)
    void aNaNWeightReachesEveryOutputItTouches(Activation act) {
        for (Gemm g : List.of(new Gemm(37, 29, 71, false, true), new Gemm(37, 29, 71, false, false), new Gemm(5, 3, 1, true, false))) {
            double[] a = Check.random(rng, (int) g.aLength(), 1);
            double[] b = Check.random(rng, (int) g.bLength(), 0.5);
            double[] bias = Check.random(rng, g.n(), 1);
            int p = g.k() - 1;
            int j = g.n() / 2;
            for (int i = 0; i < g.m(); i++) {
                a[g.transA() ? p * g.m() + i : i * g.k() + p] = 0; // 0 * NaN must still be NaN
            }
            b[g.transB() ? j * g.k() + p : p * g.n() + j] = Double.NaN;
            try (DeviceBuffer ab = put(a); DeviceBuffer bb = put(b); DeviceBuffer biasb = put(bias);
                 DeviceBuffer z = unwritten((int) g.cLength()); DeviceBuffer y = unwritten((int) g.cLength())) {
                dev.run(MatmulOps.matmul(g, ab, bb, biasb, act, z, y));
                float[] zf = get(z);
                float[] yf = get(y);
                for (int i = 0; i < g.m(); i++) {
                    for (int c = 0; c < g.n(); c++) {
                        int at = i * g.n() + c;
                        assertEquals(c == j, Float.isNaN(zf[at]), g + ": z[" + i + "," + c + "] = " + zf[at]);
                        assertEquals(c == j, Float.isNaN(yf[at]), g + " " + act + ": y[" + i + "," + c + "] = " + yf[at]);
                    }
                }
            }
        }
    }

    /** Softmax, softmax cross-entropy (both the short-row and long-row paths), MSE: a row with a NaN or +inf is NaN throughout, as in PyTorch. */
    @Test
    void nonFiniteLogitsGiveNaNRowsInSoftmaxAndLosses() {
        for (int c : new int[] {10, 23}) {
            int r = 37;
            double[] x = Check.random(rng, r * c, 5);
            int[] labels = new int[r];
            for (int i = 0; i < r; i++) {
                labels[i] = rng.nextInt(c);
            }
            x[2 * c + 1] = Double.NaN;
            x[5 * c + c - 1] = Double.POSITIVE_INFINITY;
            x[9 * c + (labels[9] + 1) % c] = Double.NEGATIVE_INFINITY; // finite loss: probability 0
            x[12 * c + labels[12]] = Double.NEGATIVE_INFINITY; // the label's logit: infinite loss
            x[r * c - 1] = Double.NaN; // the last row (a partial vector of rows)
            double[] dy = Check.random(rng, r * c, 1);
            double[] t = Check.random(rng, r * c, 1);
            try (DeviceBuffer xb = put(x); DeviceBuffer lb = putInts(labels); DeviceBuffer loss = unwritten(r);
                 DeviceBuffer dx = unwritten(r * c); DeviceBuffer y = unwritten(r * c); DeviceBuffer dyb = put(dy);
                 DeviceBuffer tb = put(t); DeviceBuffer am = dev.allocInt(r)) {
                dev.run(RowsOps.softmaxForward(r, c, xb, y));
                float[] yf = get(y);
                Check.sameNonFinite("softmax " + r + "x" + c, ReferenceOps.softmax(r, c, x), yf, r * c);
                dev.run(RowsOps.softmaxBackward(r, c, y, dyb, dx));
                Check.sameNonFinite("softmax backward", ReferenceOps.softmaxBackward(r, c, d(yf), dy), get(dx), r * c);
                dev.run(RowsOps.softmaxCrossEntropy(r, c, xb, lb, 1.0 / r, loss, dx));
                ReferenceOps.LossResult ref = ReferenceOps.softmaxCrossEntropy(r, c, x, labels, 1.0 / r);
                float[] lf = get(loss);
                float[] gf = get(dx);
                Check.sameNonFinite("cross-entropy loss " + r + "x" + c, ref.rowLoss(), lf, r);
                Check.sameNonFinite("cross-entropy gradient " + r + "x" + c, ref.grad(), gf, r * c);
                for (int row : new int[] {2, 5, r - 1}) {
                    assertTrue(Float.isNaN(lf[row]) && Float.isNaN(gf[row * c]) && Float.isNaN(yf[row * c]),
                            "row " + row + " holds a NaN or +inf logit: loss " + lf[row] + ", gradient " + gf[row * c]);
                }
                assertTrue(Float.isFinite(lf[9]) && lf[12] == Float.POSITIVE_INFINITY, "loss " + lf[9] + ", " + lf[12]);
                dev.run(RowsOps.meanSquaredError(r, c, xb, tb, 0.5, loss, dx));
                ReferenceOps.LossResult mse = ReferenceOps.meanSquaredError(r, c, x, t, 0.5);
                Check.sameNonFinite("mse loss", mse.rowLoss(), get(loss), r);
                Check.sameNonFinite("mse gradient", mse.grad(), get(dx), r * c);
                dev.run(RowsOps.argmax(r, c, xb, am));
                int[] got = new int[r];
                dev.download(am, got);
                assertArrayEquals(ReferenceOps.argmax(r, c, x), got, "argmax: NaN counts as the largest (torch.argmax)");
                assertEquals(1, got[2]);
                assertEquals(c - 1, got[5]);
            }
        }
    }

    // ---- optimizers --------------------------------------------------------------------------

    @Test
    void updatesAreSkippedWhenTheFlagIsNotFinite() {
        double[] w = Check.random(rng, 100, 1);
        double[] g = Check.random(rng, 100, 1);
        try (DeviceBuffer wb = put(w); DeviceBuffer gb = put(g); DeviceBuffer mb = put(new double[100]);
             DeviceBuffer vb = put(new double[100]); DeviceBuffer bad = put(new double[] {Double.NaN})) {
            dev.run(OptimizerOps.sgd(wb, gb, vb, new SgdStep(0.1, 0.9, false, 0), bad));
            dev.run(OptimizerOps.adam(wb, gb, mb, vb, new AdamStep(0.1, 0.9, 0.999, 1e-8, 0.1, true, 1), bad));
            Check.elementwise("skipped update", w, get(wb), 100, 0, 0);
            Check.elementwise("skipped state", new double[100], get(vb), 100, 0, 0);
        }
    }

    // ---- buffers ---------------------------------------------------------------------------

    @Test
    void buffersAreFreedAndUseAfterCloseThrows() {
        Counters before = dev.counters();
        for (int i = 0; i < 10_000; i++) {
            DeviceBuffer b = dev.allocFloat(64 + i % 7);
            b.close();
            b.close(); // twice is harmless
        }
        Counters after = dev.counters();
        assertEquals(before.liveBuffers(), after.liveBuffers(), "live buffers after 10,000 allocate/close cycles");
        assertEquals(before.liveBytes(), after.liveBytes(), "live bytes after 10,000 allocate/close cycles");
        DeviceBuffer b = dev.allocFloat(8);
        DeviceBuffer view = b.slice(2, 4);
        b.close();
        assertTrue(b.isClosed() && view.isClosed());
        assertThrows(IllegalStateException.class, () -> dev.run(ElementwiseOps.fill(b, 1)));
        assertThrows(IllegalStateException.class, () -> dev.download(view, new float[4]));
        assertThrows(IndexOutOfBoundsException.class, () -> dev.allocFloat(4).slice(3, 2));
    }

    @Test
    void closingTheDeviceFreesEverything() {
        Device d = openDevice();
        DeviceBuffer a = d.allocFloat(1000);
        d.allocInt(10);
        assertEquals(2, d.counters().liveBuffers());
        d.close();
        d.close();
        assertTrue(a.isClosed());
        assertEquals(0, d.counters().liveBuffers());
        assertThrows(IllegalStateException.class, () -> d.allocFloat(1));
        assertThrows(IllegalStateException.class, () -> d.run(ElementwiseOps.fill(a, 0)));
    }

    @Test
    void argumentsAreChecked() {
        try (DeviceBuffer small = dev.allocFloat(3); DeviceBuffer ints = dev.allocInt(3)) {
            assertThrows(IllegalArgumentException.class, () -> MatmulOps.matmul(Gemm.of(2, 2, 2), small, small, null, Activation.IDENTITY, small, null));
            assertThrows(IllegalArgumentException.class, () -> MatmulOps.matmul(Gemm.of(1, 1, 1), small, small, null, Activation.RELU, small, null));
            assertThrows(IllegalArgumentException.class, () -> dev.run(ElementwiseOps.fill(ints, 0)));
            assertThrows(IllegalArgumentException.class, () -> dev.upload(new float[2], small));
        }
    }

    // ---- training: residency, determinism, consistency -----------------------------------

    static final NetworkSpec NET = ConsistencyCheck.NET;

    /**
     * 100 steps copy in exactly the batch (features + labels) when the data is staged from the
     * host, nothing when it is resident (the dataset and the epoch's row order go up before the
     * first step's batch), and copy out exactly the loss slots; parameters reach the host only
     * when asked.
     */
    @ParameterizedTest
    @EnumSource(value = TrainConfig.ResidentData.class, names = {"ON", "OFF"})
    void trainingStepsCopyOnlyTheBatchAndTheLoss(TrainConfig.ResidentData placement) {
        int batch = 16;
        int f = 20;
        int rows = 100 * batch;
        Dataset data = Check.clusters("residency", rows, f, 5, 3);
        boolean resident = placement == TrainConfig.ResidentData.ON;
        for (int lossEvery : new int[] {1, 10}) {
            TrainConfig cfg = TrainConfig.defaults().withEpochs(1).withBatchSize(batch).withLossEvery(lossEvery)
                    .withOptimizer(Optimizer.adamW(0.01)).withResidentData(placement);
            try (Model model = new Model(dev, NET, 5, batch); Trainer trainer = new Trainer(model, cfg)) {
                List<Counters> perStep = new ArrayList<>();
                Counters start = dev.counters();
                trainer.fit(data, null, new TrainListener() {
                    @Override
                    public void onStep(int epoch, long step, int rows) {
                        perStep.add(dev.counters());
                    }
                });
                assertEquals(resident, trainer.dataResident());
                assertEquals(100, perStep.size());
                Counters prev = start;
                for (int s = 0; s < 100; s++) {
                    Counters delta = perStep.get(s).minus(prev);
                    long in = !resident ? batch * f * 4L + batch * 4L
                            : s == 0 ? rows * f * 4L + rows * 4L + rows * 4L : 0; // features, labels, order
                    assertEquals(in, delta.bytesToDevice(), "bytes in, step " + s);
                    long out = (s + 1) % lossEvery == 0 ? 4L * lossEvery : 0;
                    assertEquals(out, delta.bytesToHost(), "bytes out, step " + s + " (loss read every " + lossEvery + ")");
                    if (s > 0 || !resident) {
                        assertEquals(0, delta.allocations(), "allocations in step " + s);
                    }
                    prev = perStep.get(s);
                }
                Counters beforeSave = dev.counters();
                float[] p = model.parametersToHost();
                Counters saved = dev.counters().minus(beforeSave);
                assertEquals(4L * p.length, saved.bytesToHost(), "an explicit parameter read copies the parameters once");
                assertEquals(0, saved.bytesToDevice());
            }
        }
    }

    /**
     * Resident data gathered on the device and batches staged from the host train bitwise alike:
     * two epochs (a reshuffle, a partial last batch) with validation, cross-entropy and MSE.
     */
    @Test
    void residentDataTrainsBitwiseLikeHostStagedData() {
        Dataset data = Check.clusters("placement", 203, 20, 5, 13);
        Dataset val = Check.clusters("placement-val", 37, 20, 5, 14);
        NetworkSpec mse = NetworkSpec.input(20).dense(16, Activation.TANH).dense(5)
                .loss(Loss.MSE).build();
        for (NetworkSpec net : List.of(NET, mse)) {
            float[][] params = new float[2][];
            List<List<Double>> losses = List.of(new ArrayList<>(), new ArrayList<>());
            double[] valLoss = new double[2];
            for (int i = 0; i < 2; i++) {
                TrainConfig.ResidentData placement = i == 0 ? TrainConfig.ResidentData.ON : TrainConfig.ResidentData.OFF;
                TrainConfig cfg = TrainConfig.defaults().withEpochs(2).withBatchSize(16).withSeed(3).withLossEvery(4)
                        .withOptimizer(new Optimizer.Sgd(0.9, true, 1e-4)).withLearningRate(0.05)
                        .withResidentData(placement);
                try (Model model = new Model(dev, net, 3, 16); Trainer trainer = new Trainer(model, cfg)) {
                    List<Double> l = losses.get(i);
                    var h = trainer.fit(data, val, new TrainListener() {
                        @Override
                        public void onLoss(long step, double loss) {
                            l.add(loss);
                        }
                    });
                    assertEquals(i == 0, trainer.dataResident());
                    params[i] = model.parametersToHost();
                    valLoss[i] = h.last().valLoss();
                }
            }
            assertEquals(losses.get(1), losses.get(0), net.describe() + ": per-step losses, resident vs host-staged");
            assertArrayEquals(params[1], params[0], net.describe() + ": parameters, resident vs host-staged");
            assertEquals(valLoss[1], valLoss[0], 0.0, net.describe() + ": validation loss");
        }
    }

    private float[] train(Device d, long seed, int steps, List<Double> losses) {
        Dataset data = Check.clusters("det", steps * 8, 20, 5, 11);
        TrainConfig cfg = TrainConfig.defaults().withEpochs(1).withBatchSize(8).withSeed(seed)
                .withOptimizer(new Optimizer.Sgd(0.9, true, 1e-4)).withLearningRate(0.05)
                .withSchedule(new Schedule.Cosine(0.1, 5));
        try (Model model = new Model(d, NET, seed, 8); Trainer trainer = new Trainer(model, cfg)) {
            trainer.fit(data, null, new TrainListener() {
                @Override
                public void onLoss(long step, double loss) {
                    losses.add(loss);
                }
            });
            return model.parametersToHost();
        }
    }

    @Test
    void sameSeedSameDeviceIsBitwiseIdenticalAfter100Steps() {
        float[] a = train(dev, 42, 100, new ArrayList<>());
        float[] b = train(dev, 42, 100, new ArrayList<>());
        assertArrayEquals(a, b, "parameters after 100 steps with the same seed");
        float[] c = train(dev, 43, 100, new ArrayList<>());
        assertTrue(!Arrays.equals(a, c), "a different seed gives different parameters");
    }

    @Test
    void trainingAgreesWithTheFloat64Reference() {
        try (Device ref = new ReferenceDevice()) {
            try (Model m1 = new Model(dev, NET, 9, 8); Model m2 = new Model(ref, NET, 9, 8)) {
                assertEquals(m2.initialSha256(), m1.initialSha256(), "initial parameters SHA-256");
            }
            List<Double> got = ConsistencyCheck.losses(dev, 20);
            List<Double> want = ConsistencyCheck.losses(ref, 20);
            assertEquals(20, got.size());
            for (int s = 0; s < 20; s++) {
                double rel = Math.abs(got.get(s) - want.get(s)) / Math.abs(want.get(s));
                assertTrue(rel <= 1e-3, "step " + s + " loss " + got.get(s) + " vs reference " + want.get(s) + " (rel " + rel + ")");
            }
            Dataset all = Check.clusters("acc", 1200, 20, 5, 21);
            Dataset.Split split = all.stratifiedSplit(0.25, 1, "train", "test");
            double accDev = ConsistencyCheck.accuracy(dev, split);
            double accRef = ConsistencyCheck.accuracy(ref, split);
            assertTrue(Math.abs(accDev - accRef) <= 0.005, "accuracy " + accDev + " vs reference " + accRef);
        }
    }

}
