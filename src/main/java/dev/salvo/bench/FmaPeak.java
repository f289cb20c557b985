package dev.salvo.bench;

import dev.salvo.device.cpu.CpuGemm;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;

/**
 * An estimate of the machine's float32 FMA peak, measured in Java so that {@code salvo bench}
 * needs no compiler: a Vector API loop of independent FMA chains ({@link VectorFma}), run on one
 * thread and on every core at once, best of a few short samples. It is what the JIT reaches with
 * the widest vectors the JVM offers, a fair ceiling for Salvo's own kernels and close to the
 * hardware's (2 FMA pipes x lanes x 2 flops x clock) where the JIT emits one FMA instruction per
 * {@code fma} call; where it is much lower than a BLAS's matmul, read it as the JIT's limit.
 */
public final class FmaPeak {

    private FmaPeak() {
    }

    /**
     * Measures on 1 thread and on {@code threads}; {@code sampleSeconds} per sample, {@code samples}
     * samples each, after a warm-up that lets C2 compile the loop.
     *
     * @return bench.json's {@code fma_peak}: method, lanes, threads and GFLOP/s stats per thread count,
     *         or only a method saying why nothing was measured
     */
    public static Map<String, Object> measure(int threads, double sampleSeconds, int samples) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (!CpuGemm.vectorApiAvailable()) {
            m.put("method", "not measured: jdk.incubator.vector is not loaded (start the JVM with --add-modules "
                    + "jdk.incubator.vector)");
            return m;
        }
        int lanes = VectorFma.lanes();
        m.put("method", "Java Vector API: " + VectorFma.CHAINS + " independent FloatVector.fma chains of "
                + lanes + " float lanes per thread (SPECIES_PREFERRED), C2-compiled, best of " + samples + " samples of "
                + sampleSeconds + " s; flops = 2 x lanes per fma");
        m.put("lanes", lanes);
        m.put("threads", threads);
        // warm-up: enough calls and iterations for C2 (OSR and the normal entry) to compile the loop
        for (int i = 0; i < 20; i++) {
            VectorFma.run(20_000, i);
        }
        long probe = 2_000_000;
        long t0 = System.nanoTime();
        VectorFma.run(probe, 1);
        double perIteration = Math.max(1e-12, (System.nanoTime() - t0) / 1e9 / probe);
        long iterations = Math.max(1000, (long) (sampleSeconds / perIteration));
        m.put("gflops_1_thread", sample(1, iterations, samples, lanes));
        m.put("gflops_all_threads", sample(threads, iterations, samples, lanes));
        return m;
    }

    /** GFLOP/s of {@code threads} threads each running {@code iterations} rounds at once, {@code samples} times. */
    private static Stats sample(int threads, long iterations, int samples, int lanes) {
        double flops = 2.0 * lanes * VectorFma.CHAINS * iterations * threads;
        double[] gflops = new double[samples];
        float[] sink = new float[threads];
        for (int s = 0; s < samples; s++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> {
                    try {
                        start.await();
                    } catch (Exception e) {
                        return;
                    }
                    sink[id] += VectorFma.run(iterations, id);
                }, "fma-peak-" + t);
                workers[t].setDaemon(true);
                workers[t].start();
            }
            long t0;
            try {
                start.await();
                t0 = System.nanoTime();
                for (Thread w : workers) {
                    w.join();
                }
            } catch (Exception e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while measuring the FMA peak", e);
            }
            gflops[s] = flops / ((System.nanoTime() - t0) / 1e9) / 1e9;
        }
        if (Float.isNaN(sink[0])) {
            gflops[0] = Double.NaN; // never: keeps the sums alive
        }
        return Stats.of(gflops);
    }
}
