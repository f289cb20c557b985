package dev.salvo.device.cpu;

import dev.salvo.device.Gemm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CpuGemmTest {

    private static final int[] MN = {0, 1, 5, 31, 97, 200};
    private static final int[] SMALL_K = {0, 1, 7, 64};
    /** Shapes (M, N, K) with a large or block-crossing depth, on top of the MN x MN x SMALL_K grid. */
    private static final int[][] BIG = {
            {1, 1, 1}, {7, 13, 4097}, {129, 257, 65}, {31, 97, 1000}, {200, 200, 1000},
            {97, 5, 4097}, {5, 200, 4097}, {200, 31, 4097}, {1, 200, 1000}, {200, 1, 1000},
            {0, 31, 4097}, {31, 0, 1000}, {97, 97, 64}, {64, 64, 64}, {130, 70, 300},
    };

    private static CpuPool pool1;
    private static CpuPool pool2;

    @BeforeAll
    static void pools() {
        pool1 = new CpuPool(1);
        pool2 = new CpuPool(2);
    }

    @AfterAll
    static void close() {
        pool1.close();
        pool2.close();
    }

    /** Every instance under test: both kernels, 1 and 2 threads, default and tiny blocks. */
    private static List<CpuGemm> gemms() {
        List<CpuGemm> list = new ArrayList<>();
        for (boolean simd : new boolean[]{true, false}) {
            for (CpuPool pool : new CpuPool[]{pool1, pool2}) {
                list.add(new CpuGemm(pool, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, simd));
            }
            // blocks far smaller than the shapes (and not multiples of MR/NR) exercise every loop edge
            list.add(new CpuGemm(pool2, 7, 16, 40, simd));
            list.add(new CpuGemm(pool1, 13, 100, 70, simd));
        }
        return list;
    }

    @Test
    void simdPathIsUsedWhenTheModuleIsPresent() {
        // surefire starts the JVM with --add-modules=jdk.incubator.vector
        assertTrue(CpuGemm.vectorApiAvailable());
        assertTrue(new CpuGemm(pool1, 96, 256, 4096, true).usesSimd());
        assertFalse(new CpuGemm(pool1, 96, 256, 4096, false).usesSimd());
    }

    @Test
    void allTransposesAllShapesWithinErrorBound() {
        List<CpuGemm> gemms = gemms();
        SplittableRandom rnd = new SplittableRandom(42);
        List<int[]> shapes = new ArrayList<>();
        for (int m : MN) {
            for (int n : MN) {
                for (int k : SMALL_K) {
                    shapes.add(new int[]{m, n, k});
                }
            }
        }
        shapes.addAll(Arrays.asList(BIG));
        int checked = 0;
        for (int[] s : shapes) {
            for (int t = 0; t < 4; t++) {
                Gemm g = new Gemm(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0);
                Check.Case c = Check.Case.random(g, rnd);
                for (CpuGemm gemm : gemms) {
                    String err = c.run(gemm);
                    assertNull(err, () -> err + " [simd=" + gemm.usesSimd() + "]");
                    checked++;
                }
            }
        }
        assertTrue(checked > 1000);
    }

    /**
     * A non-transposed A read in place (few column panels) and the same A stored transposed (always
     * packed) give the same bits: the in-place kernel sums in the packed kernel's order. Row counts
     * that leave a partial micro-panel, column counts on both sides of the in-place limit.
     */
    @Test
    void inPlaceAMatchesPackedABitwise() {
        org.junit.jupiter.api.Assumptions.assumeTrue(CpuGemm.vectorApiAvailable(), "the Vector API module is not loaded");
        java.util.Random r = new java.util.Random(21);
        for (CpuPool pool : new CpuPool[] {pool1, pool2}) {
            CpuGemm g = new CpuGemm(pool, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, true);
            for (int[] mnk : new int[][] {{768, 128, 128}, {77, 40, 300}, {13, 500, 33}, {200, 130, 64}, {12, 12, 1}}) {
                int m = mnk[0], n = mnk[1], k = mnk[2];
                float[] a = new float[m * k];
                float[] at = new float[m * k];
                float[] b = new float[k * n];
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < k; p++) {
                        a[i * k + p] = (float) r.nextGaussian();
                        at[p * m + i] = a[i * k + p];
                    }
                }
                for (int q = 0; q < b.length; q++) {
                    b[q] = (float) r.nextGaussian();
                }
                float[] c1 = new float[m * n];
                float[] c2 = new float[m * n];
                g.multiply(m, n, k, false, false, 1, 0, 0, 0, false, a, 0, b, 0, c1, 0);
                g.multiply(m, n, k, true, false, 1, 0, 0, 0, false, at, 0, b, 0, c2, 0);
                assertArrayEquals(c2, c1, m + "x" + n + "x" + k + " on " + pool.threads() + " threads");
            }
        }
    }

    @Test
    void reproducibleAcrossRunsAndThreadCounts() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (boolean simd : new boolean[]{true, false}) {
            CpuGemm two = new CpuGemm(pool2, 48, 64, 96, simd);
            CpuGemm one = new CpuGemm(pool1, 48, 64, 96, simd);
            for (int t = 0; t < 4; t++) {
                Gemm g = new Gemm(203, 150, 301, (t & 1) != 0, (t & 2) != 0);
                Check.Case c = Check.Case.random(g, rnd);
                float[] first = c.product(two);
                float[] second = c.product(two);
                float[] single = c.product(one);
                assertArrayEquals(bits(first), bits(second), "2 threads, run to run");
                assertArrayEquals(bits(first), bits(single), "2 threads vs 1 thread");
            }
        }
    }

    /**
     * A batch gives bitwise what its entries give one at a time, with 1 or 2 threads, on both kernels
     * and both batch paths (small products split across entries, large ones split inside): shared
     * operands, gaps (NaN between entries must not be read, and stay as they were) and accumulation.
     */
    @Test
    void batchesMatchTheirEntriesBitwiseOnAnyThreadCount() {
        SplittableRandom rnd = new SplittableRandom(19);
        // 13 entries: 13x17x100 and 20x33x50 split across entries on 2 threads, 70x65x66 inside each
        // product, 5x40x7 and 1x1x1 on the caller alone
        int[][] shapes = {{13, 17, 100}, {20, 33, 50}, {5, 40, 7}, {70, 65, 66}, {1, 1, 1}};
        for (boolean simd : new boolean[]{true, false}) {
            CpuGemm[] gemms = {new CpuGemm(pool1, 48, 64, 96, simd), new CpuGemm(pool2, 48, 64, 96, simd),
                    new CpuGemm(pool2, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, simd)};
            for (int[] s : shapes) {
                for (int t = 0; t < 4; t++) {
                    for (int beta = 0; beta <= 1; beta++) {
                        int m = s[0], n = s[1], k = s[2];
                        int batch = 13;
                        Gemm one = new Gemm(m, n, k, (t & 1) != 0, (t & 2) != 0);
                        Gemm g = one.batched(batch, t == 1 ? 0 : m * k + 3, t == 2 ? 0 : k * n + 1, m * n + 2);
                        if (beta == 1) {
                            one = one.accumulate();
                            g = g.accumulate();
                        }
                        float[] a = fill(new float[(int) g.aLength()], rnd);
                        float[] b = fill(new float[(int) g.bLength()], rnd);
                        float[] c0 = fill(new float[(int) g.cLength()], rnd);
                        for (int e = 0; e + 1 < batch; e++) {
                            gaps(a, g.strideA(), e, one.aMatrixLength());
                            gaps(b, g.strideB(), e, one.bMatrixLength());
                        }
                        if (beta == 0) {
                            for (int e = 0; e < batch; e++) { // never read when overwriting
                                Arrays.fill(c0, (int) (e * g.strideC()), (int) (e * g.strideC() + m * n), Float.NaN);
                            }
                        }
                        float[][] got = new float[gemms.length][];
                        for (int i = 0; i < gemms.length; i++) {
                            CpuGemm gemm = gemms[i];
                            // the expected result: entry by entry, one unbatched call each, same blocking
                            float[] expect = c0.clone();
                            for (int e = 0; e < batch; e++) {
                                float[] ae = Arrays.copyOfRange(a, (int) (e * g.strideA()), (int) (e * g.strideA() + one.aLength()));
                                float[] be = Arrays.copyOfRange(b, (int) (e * g.strideB()), (int) (e * g.strideB() + one.bLength()));
                                gemm.multiply(one, ae, 0, be, 0, expect, (int) (e * g.strideC()));
                            }
                            got[i] = c0.clone();
                            gemm.multiply(g, a, 0, b, 0, got[i], 0);
                            Gemm shown = g;
                            assertArrayEquals(bits(expect), bits(got[i]), () -> shown + " simd=" + simd + " gemm " + gemm);
                            for (float v : got[i]) {
                                assertFalse(Float.isNaN(v), () -> "a NaN was read: " + shown);
                            }
                        }
                        assertArrayEquals(bits(got[0]), bits(got[1]), "1 thread vs 2 threads, same blocks: " + g);
                    }
                }
            }
        }
    }

    /**
     * The convolution shapes' paths (SIMD): column mode (few rows, many columns) and split depth
     * (small C, long depth; also with the operands swapped), at the default and at small blocks,
     * all transposes, overwriting and accumulating: within the error bound, and bitwise the same
     * on 1 and 2 threads.
     */
    @Test
    void columnModeAndSplitDepthAreCorrectAndThreadCountFree() {
        SplittableRandom rnd = new SplittableRandom(23);
        int[][] shapes = {{9, 4100, 32}, {70, 4500, 20}, {32, 9, 9000}, {33, 40, 8300}, {3, 1, 100000}, {50, 800, 30}, {20, 70, 8193}};
        CpuGemm defaults = new CpuGemm(pool2, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, true);
        assertTrue(defaults.columnMode(9, 4100) && defaults.columnMode(70, 4500));
        assertEquals(4, defaults.kSegments(32, 9, 9000));
        assertEquals(16, defaults.kSegments(3, 1, 100000));
        assertEquals(1, defaults.kSegments(300, 300, 9000));
        CpuGemm small = new CpuGemm(pool2, 13, 100, 70, true);
        assertTrue(small.columnMode(50, 800) && small.kSegments(20, 70, 8193) == 4);
        for (int[] blocks : new int[][] {{CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC}, {13, 100, 70}}) {
            CpuGemm one = new CpuGemm(pool1, blocks[0], blocks[1], blocks[2], true);
            CpuGemm two = new CpuGemm(pool2, blocks[0], blocks[1], blocks[2], true);
            for (int[] sh : shapes) {
                for (int t = 0; t < 4; t++) {
                    Gemm g = new Gemm(sh[0], sh[1], sh[2], (t & 1) != 0, (t & 2) != 0);
                    Check.Case c = Check.Case.random(g, rnd);
                    String err = c.run(two);
                    assertNull(err, () -> err + " blocks " + Arrays.toString(blocks));
                    assertArrayEquals(bits(c.product(one)), bits(c.product(two)), "1 vs 2 threads: " + g);
                    // accumulate: C0 + product, the same on both
                    float[] c0 = fill(new float[g.m() * g.n()], rnd);
                    float[] acc1 = c0.clone();
                    float[] acc2 = c0.clone();
                    one.multiply(g.accumulate(), c.a, c.aOff, c.b, c.bOff, acc1, 0);
                    two.multiply(g.accumulate(), c.a, c.aOff, c.b, c.bOff, acc2, 0);
                    assertArrayEquals(bits(acc1), bits(acc2), "accumulate, 1 vs 2 threads: " + g);
                    for (int i = 0; i < c0.length; i++) {
                        double bound = 2 * (g.k() + 1) * Check.U * (c.absRef[i] + Math.abs(c0[i])) + 1e-30;
                        assertTrue(Math.abs(acc2[i] - (c0[i] + c.ref[i])) <= bound, g + " accumulate element " + i);
                    }
                }
            }
        }
    }

    /** NaN between entry {@code e} and the next (nothing when the stride leaves no gap). */
    private static void gaps(float[] x, long stride, int e, long matrix) {
        if (stride > matrix) {
            Arrays.fill(x, (int) (e * stride + matrix), (int) ((e + 1) * stride), Float.NaN);
        }
    }

    private static float[] fill(float[] x, SplittableRandom rnd) {
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return x;
    }

    @Test
    void scratchGrowsAndShrinkingShapesStayCorrect() {
        SplittableRandom rnd = new SplittableRandom(3);
        CpuGemm gemm = new CpuGemm(pool2, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, true);
        int[][] seq = {{5, 5, 5}, {300, 260, 520}, {17, 33, 9}, {300, 260, 520}, {1, 1, 1}};
        for (int[] s : seq) {
            Check.Case c = Check.Case.random(new Gemm(s[0], s[1], s[2], false, true), rnd);
            String err = c.run(gemm);
            assertNull(err, err);
        }
    }

    @Test
    void rejectsArraysTooShort() {
        CpuGemm gemm = new CpuGemm(pool1, 8, 8, 8, false);
        Gemm g = Gemm.of(4, 4, 4);
        assertThrows(IndexOutOfBoundsException.class,
                () -> gemm.multiply(g, new float[15], 0, new float[16], 0, new float[16], 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> gemm.multiply(g, new float[16], 0, new float[16], 1, new float[16], 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> gemm.multiply(g, new float[16], 0, new float[16], 0, new float[16], -1));
    }

    /** A JVM started without --add-modules jdk.incubator.vector must take the scalar path and be right. */
    @Test
    void worksWithoutTheVectorModule() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        String cp = location(CpuGemm.class) + File.pathSeparator + location(CpuGemmTest.class);
        Process p = new ProcessBuilder(java, "-Xmx512m", "-cp", cp, NoVectorModule.class.getName())
                .redirectErrorStream(true)
                .start();
        boolean exited = p.waitFor(120, TimeUnit.SECONDS);
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!exited) {
            p.destroyForcibly();
        }
        assertTrue(exited, "child JVM timed out: " + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("OK vectorApiAvailable=false usesSimd=false"), out);
    }

    private static String location(Class<?> c) throws Exception {
        return new File(c.getProtectionDomain().getCodeSource().getLocation().toURI()).getPath();
    }

    private static int[] bits(float[] x) {
        int[] r = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            r[i] = Float.floatToRawIntBits(x[i]);
        }
        return r;
    }

    /** Entry point of the child JVM started without the vector module (no JUnit on this path). */
    static final class NoVectorModule {
        public static void main(String[] args) {
            boolean avail = CpuGemm.vectorApiAvailable();
            SplittableRandom rnd = new SplittableRandom(11);
            try (CpuPool pool = new CpuPool(2)) {
                CpuGemm gemm = new CpuGemm(pool, 16, 32, 64, true);
                int[][] shapes = {{1, 1, 1}, {7, 13, 129}, {97, 65, 200}, {33, 31, 0}};
                for (int[] s : shapes) {
                    for (int t = 0; t < 4; t++) {
                        Check.Case c = Check.Case.random(new Gemm(s[0], s[1], s[2], (t & 1) != 0, (t & 2) != 0), rnd);
                        String err = c.run(gemm);
                        if (err != null) {
                            System.out.println("FAIL " + err);
                            System.exit(1);
                        }
                    }
                }
                System.out.println("OK vectorApiAvailable=" + avail + " usesSimd=" + gemm.usesSimd());
            }
        }
    }

    /** Reference product and error bounds; JUnit-free so the child JVM can use it. */
    static final class Check {
        static final double U = 0x1p-24;

        static final class Case {
            final Gemm g;
            final float[] a;
            final float[] b;
            final int aOff;
            final int bOff;
            final int cOff;
            final double[] ref;
            final double[] absRef;
            final double normA;
            final double normB;

            private Case(Gemm g, float[] a, int aOff, float[] b, int bOff, int cOff) {
                this.g = g;
                this.a = a;
                this.b = b;
                this.aOff = aOff;
                this.bOff = bOff;
                this.cOff = cOff;
                int m = g.m(), n = g.n(), k = g.k();
                ref = new double[m * n];
                absRef = new double[m * n];
                double[] arow = new double[k];
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < k; p++) {
                        arow[p] = g.transA() ? a[aOff + p * m + i] : a[aOff + i * k + p];
                    }
                    for (int j = 0; j < n; j++) {
                        double s = 0, sa = 0;
                        for (int p = 0; p < k; p++) {
                            double bv = g.transB() ? b[bOff + j * k + p] : b[bOff + p * n + j];
                            s += arow[p] * bv;
                            sa += Math.abs(arow[p] * bv);
                        }
                        ref[i * n + j] = s;
                        absRef[i * n + j] = sa;
                    }
                }
                normA = frob(a, aOff, m * k);
                normB = frob(b, bOff, k * n);
            }

            /** Random operands in [-1, 1) with nonzero offsets and garbage around them. */
            static Case random(Gemm g, SplittableRandom rnd) {
                int aOff = 1 + rnd.nextInt(5);
                int bOff = 1 + rnd.nextInt(5);
                int cOff = 1 + rnd.nextInt(5);
                float[] a = fill(new float[aOff + g.m() * g.k() + 3], rnd);
                float[] b = fill(new float[bOff + g.k() * g.n() + 3], rnd);
                return new Case(g, a, aOff, b, bOff, cOff);
            }

            /** C (without its offset) computed by {@code gemm} into a NaN-filled array. */
            float[] product(CpuGemm gemm) {
                float[] c = new float[cOff + g.m() * g.n() + 3];
                Arrays.fill(c, Float.NaN);
                gemm.multiply(g, a, aOff, b, bOff, c, cOff);
                for (int i = 0; i < cOff; i++) {
                    if (!Float.isNaN(c[i])) {
                        throw new AssertionError("wrote before cOff at " + i);
                    }
                }
                for (int i = cOff + g.m() * g.n(); i < c.length; i++) {
                    if (!Float.isNaN(c[i])) {
                        throw new AssertionError("wrote past C at " + i);
                    }
                }
                return Arrays.copyOfRange(c, cOff, cOff + g.m() * g.n());
            }

            /** Null when the product meets the per-element and normwise bounds, else a description. */
            String run(CpuGemm gemm) {
                float[] c = product(gemm);
                int k = g.k();
                double gamma = k * U / (1 - k * U);
                double errSq = 0;
                for (int i = 0; i < c.length; i++) {
                    double e = Math.abs(c[i] - ref[i]);
                    // NaN (an unwritten element) fails this comparison
                    if (!(e <= 2 * gamma * absRef[i])) {
                        return g + " element (" + i / g.n() + "," + i % g.n() + ") = " + c[i]
                                + ", ref " + ref[i] + ", bound " + 2 * gamma * absRef[i];
                    }
                    errSq += e * e;
                }
                double denom = Math.sqrt(k + 2.0) * normA * normB;
                if (denom > 0) {
                    double rel = Math.sqrt(errSq) / denom;
                    if (!(rel < U)) {
                        return g + " normwise error " + rel + " >= u";
                    }
                }
                return null;
            }

            private static float[] fill(float[] x, SplittableRandom rnd) {
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (rnd.nextDouble() * 2 - 1);
                }
                return x;
            }

            private static double frob(float[] x, int off, int len) {
                double s = 0;
                for (int i = off; i < off + len; i++) {
                    s += (double) x[i] * x[i];
                }
                return Math.sqrt(s);
            }
        }
    }
}
