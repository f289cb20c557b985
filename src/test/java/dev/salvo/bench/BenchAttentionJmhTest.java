package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link AttentionBenchmark} and {@link AttentionReport} without JMH, on a tiny shape on the CPU
 * device: the benchmark's op sequence is causal multi-head attention (its forward output and its
 * backward's qkv gradient match a float64 loop over the same inputs), and the report's GFLOP/s
 * are FLOPs over the scores. Nothing is timed.
 */
class BenchAttentionJmhTest {

    @Test
    void theOpSequenceIsCausalAttentionForwardAndBackward() {
        AttentionBenchmark bench = new AttentionBenchmark();
        bench.device = "cpu";
        bench.shape = "2x5x3x4";
        AttentionBenchmark.Shape s = AttentionBenchmark.Shape.parse(bench.shape);
        int b = s.b();
        int t = s.t();
        int h = s.h();
        int d = s.d();
        int c = s.c();
        bench.setup();
        try {
            bench.forward();
            bench.backward();
            float[] y = new float[b * t * c];
            bench.dev.download(bench.y.slice(0, y.length), y);
            float[] dqkv = new float[3 * b * t * c];
            bench.dev.download(bench.dqkv.slice(0, dqkv.length), dqkv);

            // the same inputs as setup: qkv (B, T, 3, H, D), dy (B, T, H, D) scaled by 1e-2
            float[] qkv = MatmulBenchmark.random(3 * b * t * c, 1);
            float[] dyf = MatmulBenchmark.random(b * t * c, 2);
            double scale = 1 / Math.sqrt(d);
            double[] wantDqkv = new double[qkv.length];
            for (int bb = 0; bb < b; bb++) {
                for (int hh = 0; hh < h; hh++) {
                    double[][] p = new double[t][t];
                    for (int i = 0; i < t; i++) {
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j <= i; j++) {
                            double dot = 0;
                            for (int e = 0; e < d; e++) {
                                dot += qkv[at(bb, i, 0, hh, e, t, h, d)] * qkv[at(bb, j, 1, hh, e, t, h, d)];
                            }
                            p[i][j] = scale * dot;
                            max = Math.max(max, p[i][j]);
                        }
                        double sum = 0;
                        for (int j = 0; j <= i; j++) {
                            p[i][j] = Math.exp(p[i][j] - max);
                            sum += p[i][j];
                        }
                        for (int j = 0; j <= i; j++) {
                            p[i][j] /= sum;
                        }
                        for (int e = 0; e < d; e++) {
                            double o = 0;
                            for (int j = 0; j <= i; j++) {
                                o += p[i][j] * qkv[at(bb, j, 2, hh, e, t, h, d)];
                            }
                            assertEquals(o, y[(bb * t + i) * c + hh * d + e], 1e-5, "y");
                        }
                    }
                    // backward: dO = dy per head; dV = P^T dO; dP = dO v^T; dS = scale P (dP - rowdot); dQ = dS k; dK = dS^T q
                    for (int i = 0; i < t; i++) {
                        double[] dp = new double[t];
                        double rowdot = 0;
                        for (int j = 0; j <= i; j++) {
                            for (int e = 0; e < d; e++) {
                                dp[j] += 1e-2 * dyf[(bb * t + i) * c + hh * d + e] * qkv[at(bb, j, 2, hh, e, t, h, d)];
                            }
                            rowdot += p[i][j] * dp[j];
                        }
                        for (int j = 0; j <= i; j++) {
                            double ds = scale * p[i][j] * (dp[j] - rowdot);
                            for (int e = 0; e < d; e++) {
                                wantDqkv[at(bb, i, 0, hh, e, t, h, d)] += ds * qkv[at(bb, j, 1, hh, e, t, h, d)];
                                wantDqkv[at(bb, j, 1, hh, e, t, h, d)] += ds * qkv[at(bb, i, 0, hh, e, t, h, d)];
                                wantDqkv[at(bb, j, 2, hh, e, t, h, d)] += p[i][j] * 1e-2 * dyf[(bb * t + i) * c + hh * d + e];
                            }
                        }
                    }
                }
            }
            double worst = 0;
            for (int i = 0; i < dqkv.length; i++) {
                worst = Math.max(worst, Math.abs(wantDqkv[i] - dqkv[i]));
            }
            assertTrue(worst < 1e-6, "dqkv differs from the float64 loop by " + worst);
        } finally {
            bench.tearDown();
        }
    }

    /** Offset of element e of part {@code part} (q, k, v), head {@code hh}, of token i of sample bb in qkv (B, T, 3, H, D). */
    private static int at(int bb, int i, int part, int hh, int e, int t, int h, int d) {
        return (((bb * t + i) * 3 + part) * h + hh) * d + e;
    }

    @Test
    void shapesAndFlops() {
        AttentionBenchmark.Shape recipe = AttentionBenchmark.Shape.parse("12x64x4x32");
        assertEquals(128, recipe.c());
        assertEquals(2.0 * 12 * 4 * 64 * 64 * 32, recipe.productFlops());
        assertEquals(2 * recipe.productFlops(), recipe.forwardFlops());
        assertEquals(4 * recipe.productFlops(), recipe.backwardFlops());
        AttentionBenchmark.Shape gpt2 = AttentionBenchmark.Shape.parse("4x1024x12x64");
        assertEquals(768, gpt2.c());
        assertEquals(2.0 * 2 * 4 * 12 * 1024 * 1024 * 64, gpt2.forwardFlops());
        assertThrows(IllegalArgumentException.class, () -> AttentionBenchmark.Shape.parse("12x64x4"));
        assertThrows(IllegalArgumentException.class, () -> AttentionBenchmark.Shape.parse("0x64x4x32"));
    }

    @Test
    void theReportTurnsScoresIntoGflopsAndPeakFractions() {
        String shape = "12x64x4x32";
        AttentionBenchmark.Shape s = AttentionBenchmark.Shape.parse(shape);
        double fwdMs = s.forwardFlops() / 50e9 * 1e3; // 50 GFLOP/s
        double bwdMs = s.backwardFlops() / 25e9 * 1e3; // 25 GFLOP/s
        List<?> root = List.of(run("forward", "cpu:0", shape, List.of(fwdMs, fwdMs / 2, fwdMs)),
                run("backward", "cpu:0", shape, List.of(bwdMs)),
                Map.of("benchmark", "dev.salvo.bench.Conv2dBenchmark.forward", "params", Map.of("shape", "1x1x2x2:1")));
        String text = AttentionReport.report(root, 100.0, "FMA peak: 100 (test)");
        assertTrue(text.contains("| cpu:0 | " + shape + " | 0.025 | 50.0 [50.0-100.0] (50%) | 25.0 [25.0-25.0] (25%) |"), text);
        assertTrue(text.contains("FMA peak: 100 (test)"), text);
        assertTrue(!text.contains("Conv2dBenchmark"), "other benchmarks are ignored: " + text);
        assertTrue(AttentionReport.report(List.of(), null, "none").contains("no AttentionBenchmark results"));
    }

    private static Map<String, Object> run(String bench, String device, String shape, List<Double> scores) {
        return Map.of("benchmark", "dev.salvo.bench.AttentionBenchmark." + bench, "params", Map.of("shape", shape, "device", device),
                "jdkVersion", "17", "vmName", "test", "vmVersion", "0",
                "primaryMetric", Map.of("scoreUnit", "ms/op", "rawData", List.of(scores)));
    }
}
