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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Square float32 matrix multiply, {@code C (n,n) = op(A) op(B)}: Salvo's {@link CpuGemm} on 2
 * threads in the three training forms (NN; TN = A^T B via transA; NT = A B^T via transB), EJML's
 * multi-threaded float kernels ({@code CommonOps_MT_FDRM}, 2 threads) in the same three forms, and
 * a textbook i-j-k triple loop on one thread (n <= 1024 only: at 2048 one call takes minutes).
 *
 * <p>Scores are ms per multiply; {@link MatmulReport} turns the JSON result into GFLOP/s
 * ({@code 2 n^3 / time}). Run everything and print the table with {@code mvn -Pjmh -DskipTests verify}.
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
