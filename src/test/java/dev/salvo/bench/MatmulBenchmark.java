package dev.salvo.bench;

import dev.salvo.device.Gemm;
import dev.salvo.device.cpu.CpuGemm;
import dev.salvo.device.cpu.CpuPool;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_MT_FDRM;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Square float32 matrix multiply, {@code C (n,n) = op(A) op(B)}, in the three forms a training step
 * uses (NN = X W; TN = X^T dY via transA; NT = dY W^T via transB), all on 2 threads: Salvo's
 * {@link CpuGemm}; OpenBLAS {@code cblas_sgemm} (the reference the speed goal is measured against,
 * through the JavaCPP preset {@code org.bytedeco:openblas}, on off-heap copies of the same inputs);
 * EJML's multi-threaded float kernels ({@code CommonOps_MT_FDRM}); and a textbook i-j-k triple loop
 * on one thread (n <= 1024 only: at 2048 one call takes minutes).
 *
 * <p>OpenBLAS is reached by reflection so that this class compiles in every build; its jars are on
 * the class path only in the {@code jmh} Maven profile (test scope: nothing of it enters the
 * runtime jars). A reference runs its library's own best kernel: the profile starts JMH without
 * {@code OPENBLAS_CORETYPE} and {@code OPENBLAS_L2_SIZE} ({@code env -u}; see
 * {@link PyTorchReference#BLAS_OVERRIDES}), and with {@code OPENBLAS_VERBOSE=2}, so OpenBLAS prints
 * {@code Core: <name>}, the kernel its own detection chose, to the log when it loads (the preset
 * does not map {@code openblas_get_corename}). The OpenBLAS setup refuses to run when either
 * override is set, and checks 64 entries of each form's product against a float64 dot product with
 * the design document's bound (src/site/markdown/design.md) before any timing.
 *
 * <p>Scores are ms per multiply; {@link MatmulReport} turns the JSON result into GFLOP/s
 * ({@code 2 n^3 / time}) and the Salvo/OpenBLAS ratios. Run everything and print the tables with
 * {@code mvn -Pjmh -DskipTests verify}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class MatmulBenchmark {

    static final int THREADS = 2;

    static float[] random(int len, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    @State(Scope.Benchmark)
    public static class Salvo {
        @Param({"256", "512", "1024", "2048"})
        public int n;

        CpuPool pool;
        CpuGemm gemm;
        float[] a;
        float[] b;
        float[] c;
        Gemm nn;
        Gemm tn;
        Gemm nt;

        @Setup(Level.Trial)
        public void setup() {
            pool = new CpuPool(THREADS);
            gemm = new CpuGemm(pool, CpuGemm.DEFAULT_MC, CpuGemm.DEFAULT_KC, CpuGemm.DEFAULT_NC, true);
            if (!gemm.usesSimd()) {
                throw new IllegalStateException("Vector API kernel not in use: start the JVM with --add-modules=jdk.incubator.vector");
            }
            a = random(n * n, 1);
            b = random(n * n, 2);
            c = new float[n * n];
            nn = new Gemm(n, n, n, false, false);
            tn = new Gemm(n, n, n, true, false);
            nt = new Gemm(n, n, n, false, true);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            pool.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Ejml {
        @Param({"256", "512", "1024", "2048"})
        public int n;

        FMatrixRMaj a;
        FMatrixRMaj b;
        FMatrixRMaj c;

        @Setup(Level.Trial)
        public void setup() {
            EjmlConcurrency.setMaxThreads(THREADS);
            a = new FMatrixRMaj(n, n, true, random(n * n, 1));
            b = new FMatrixRMaj(n, n, true, random(n * n, 2));
            c = new FMatrixRMaj(n, n);
        }
    }

    /** OpenBLAS through the JavaCPP preset, found by reflection (see the class comment). */
    @State(Scope.Benchmark)
    public static class OpenBlas {
        @Param({"256", "512", "1024", "2048"})
        public int n;

        static final int ROW_MAJOR = 101;
        static final int NO_TRANS = 111;
        static final int TRANS = 112;

        /** {@code (int order, int transA, int transB, int m, int n, int k, float alpha, Object a, int lda, Object b, int ldb, float beta, Object c, int ldc)void}. */
        MethodHandle sgemm;
        /** {@code (Object floatPointer, float[] dst)Object}: copies native memory back. */
        MethodHandle get;
        Object a;
        Object b;
        Object c;

        @Setup(Level.Trial)
        public void setup() throws Throwable {
            java.util.Map<String, String> forced = PyTorchReference.removedFrom(System.getenv());
            if (!forced.isEmpty()) {
                throw new IllegalStateException(forced + " is set: it overrides OpenBLAS's own kernel choice, and the"
                        + " reference must run its best kernel; run through mvn -Pjmh (which removes it) or unset it");
            }
            Class<?> blas;
            Class<?> fp;
            try {
                blas = Class.forName("org.bytedeco.openblas.global.openblas");
                fp = Class.forName("org.bytedeco.javacpp.FloatPointer");
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("OpenBLAS (org.bytedeco:openblas) is not on the class path: run with mvn -Pjmh", e);
            }
            MethodHandles.Lookup lookup = MethodHandles.publicLookup();
            Class<?> presets = Class.forName("org.bytedeco.openblas.presets.openblas_nolapack");
            lookup.findStatic(presets, "blas_set_num_threads", MethodType.methodType(void.class, int.class))
                    .invoke(THREADS);
            int threads = (int) lookup.findStatic(presets, "blas_get_num_threads", MethodType.methodType(int.class)).invoke();
            if (threads != THREADS) {
                throw new IllegalStateException("OpenBLAS runs " + threads + " threads, expected " + THREADS);
            }
            sgemm = lookup.findStatic(blas, "cblas_sgemm", MethodType.methodType(void.class,
                            int.class, int.class, int.class, int.class, int.class, int.class, float.class,
                            fp, int.class, fp, int.class, float.class, fp, int.class))
                    .asType(MethodType.methodType(void.class,
                            int.class, int.class, int.class, int.class, int.class, int.class, float.class,
                            Object.class, int.class, Object.class, int.class, float.class, Object.class, int.class));
            get = lookup.findVirtual(fp, "get", MethodType.methodType(fp, float[].class))
                    .asType(MethodType.methodType(Object.class, Object.class, float[].class));
            MethodHandle make = lookup.findConstructor(fp, MethodType.methodType(void.class, float[].class));
            float[] ha = random(n * n, 1);
            float[] hb = random(n * n, 2);
            a = make.invoke(ha);
            b = make.invoke(hb);
            c = make.invoke(new float[n * n]);
            for (int form = 0; form < 3; form++) {
                verify(form, ha, hb);
            }
            System.out.printf(Locale.ROOT, "%nOpenBLAS %s: its own kernel choice (the Core: line above), %d threads, n=%d:"
                    + " NN, TN and NT products verified%n", blas.getPackage().getImplementationVersion(), threads, n);
        }

        /** form 0 = NN, 1 = TN (A^T B), 2 = NT (A B^T); row-major, so the leading dimension is n throughout. */
        void multiply(int form) throws Throwable {
            sgemm.invokeExact(ROW_MAJOR, form == 1 ? TRANS : NO_TRANS, form == 2 ? TRANS : NO_TRANS,
                    n, n, n, 1f, a, n, b, n, 0f, c, n);
        }

        /** Runs one product on a NaN-filled C and checks 64 entries against float64 dot products. */
        private void verify(int form, float[] ha, float[] hb) throws Throwable {
            float[] nan = new float[n * n];
            java.util.Arrays.fill(nan, Float.NaN);
            Object poisoned = c.getClass().getConstructor(float[].class).newInstance((Object) nan);
            Object keep = c;
            c = poisoned;
            multiply(form);
            c = keep;
            float[] hc = new float[n * n];
            Object unused = get.invokeExact(poisoned, hc);
            double gamma = n * 0x1p-24 / (1 - n * 0x1p-24);
            SplittableRandom r = new SplittableRandom(form);
            for (int t = 0; t < 64; t++) {
                int i = r.nextInt(n);
                int j = r.nextInt(n);
                double sum = 0;
                double abs = 0;
                for (int p = 0; p < n; p++) {
                    double x = form == 1 ? ha[p * n + i] : ha[i * n + p];
                    double y = form == 2 ? hb[j * n + p] : hb[p * n + j];
                    sum += x * y;
                    abs += Math.abs(x * y);
                }
                double got = hc[i * n + j];
                if (!(Math.abs(got - sum) <= 2 * gamma * abs)) {
                    throw new IllegalStateException(String.format(Locale.ROOT,
                            "OpenBLAS form %d n=%d: C[%d][%d] = %s, float64 reference %s", form, n, i, j, got, sum));
                }
            }
        }
    }

    @State(Scope.Benchmark)
    public static class Naive {
        @Param({"256", "512", "1024"})
        public int n;

        float[] a;
        float[] b;
        float[] c;

        @Setup(Level.Trial)
        public void setup() {
            a = random(n * n, 1);
            b = random(n * n, 2);
            c = new float[n * n];
        }
    }

    @Benchmark
    public float[] salvoNN(Salvo s) {
        s.gemm.multiply(s.nn, s.a, 0, s.b, 0, s.c, 0);
        return s.c;
    }

    @Benchmark
    public float[] salvoTN(Salvo s) {
        s.gemm.multiply(s.tn, s.a, 0, s.b, 0, s.c, 0);
        return s.c;
    }

    @Benchmark
    public float[] salvoNT(Salvo s) {
        s.gemm.multiply(s.nt, s.a, 0, s.b, 0, s.c, 0);
        return s.c;
    }

    @Benchmark
    public Object openblasNN(OpenBlas o) throws Throwable {
        o.multiply(0);
        return o.c;
    }

    @Benchmark
    public Object openblasTN(OpenBlas o) throws Throwable {
        o.multiply(1);
        return o.c;
    }

    @Benchmark
    public Object openblasNT(OpenBlas o) throws Throwable {
        o.multiply(2);
        return o.c;
    }

    @Benchmark
    public FMatrixRMaj ejmlNN(Ejml e) {
        return CommonOps_MT_FDRM.mult(e.a, e.b, e.c);
    }

    @Benchmark
    public FMatrixRMaj ejmlTN(Ejml e) {
        return CommonOps_MT_FDRM.multTransA(e.a, e.b, e.c);
    }

    @Benchmark
    public FMatrixRMaj ejmlNT(Ejml e) {
        return CommonOps_MT_FDRM.multTransB(e.a, e.b, e.c);
    }

    /** Textbook i-j-k dot-product loop over flat row-major arrays, one thread. */
    @Benchmark
    @Warmup(iterations = 1, time = 1)
    @Measurement(iterations = 3, time = 1)
    public float[] naive(Naive s) {
        int n = s.n;
        float[] a = s.a;
        float[] b = s.b;
        float[] c = s.c;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int k = 0; k < n; k++) {
                    sum += a[i * n + k] * b[k * n + j];
                }
                c[i * n + j] = sum;
            }
        }
        return c;
    }
}
