package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.ops.ElementwiseOps;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Conv2dBenchmark} and {@link Conv2dReport} without JMH, on a tiny shape: every benchmark
 * method runs, backwardData's calls give the input gradient the layer's own backward gives, and
 * the report's GFLOP/s are FLOPs over the scores. Nothing is timed.
 */
class BenchConv2dJmhTest {

    @Test
    void everyBenchmarkRunsAndBackwardDataIsTheLayersInputGradient() {
        Conv2dBenchmark b = new Conv2dBenchmark();
        b.shape = "3x2x6x5:4";
        b.setup();
        try {
            int len = 3 * 2 * 6 * 5;
            b.dev.run(ElementwiseOps.fill(b.dx, Double.NaN));
            b.backward(); // the layer: dW and dx
            float[] layer = new float[len];
            b.dev.download(b.dx.slice(0, len), layer);
            b.dev.run(ElementwiseOps.fill(b.dx, Double.NaN));
            b.backwardData(); // the benchmark's own calls for dx
            float[] own = new float[len];
            b.dev.download(b.dx.slice(0, len), own);
            assertArrayEquals(layer, own, "the same calls on the same inputs");
            for (float v : own) {
                assertTrue(Float.isFinite(v) && v != 0, "every element of dx is computed");
            }
            b.forward();
            b.backwardWeights();
        } finally {
            b.tearDown();
        }
    }

    @Test
    void shapesAndFlops() {
        Conv2dBenchmark.Shape recipe1 = Conv2dBenchmark.Shape.parse("128x1x28x28:32");
        assertEquals(28, recipe1.oh());
        assertEquals(2.0 * 128 * 32 * 28 * 28 * 9, recipe1.flops());
        Conv2dBenchmark.Shape resnet = Conv2dBenchmark.Shape.parse("16x64x56x56:64");
        assertEquals(2.0 * 16 * 64 * 56 * 56 * 64 * 9, resnet.flops());
        assertThrows(IllegalArgumentException.class, () -> Conv2dBenchmark.Shape.parse("128x1x28"));
    }

    @Test
    void theReportTurnsScoresIntoGflopsAndPeakFractions() {
        String shape = "128x32x14x14:64";
        double flops = Conv2dBenchmark.Shape.parse(shape).flops();
        // scores in ms/op: 10 ms forward, 20 ms backward (twice the FLOPs: the same rate)
        double ms = flops / 100e9 * 1e3; // 100 GFLOP/s
        List<?> root = List.of(run("forward", shape, List.of(ms, ms / 2, ms)), run("backward", shape, List.of(2 * ms)),
                Map.of("benchmark", "dev.salvo.bench.MatmulBenchmark.salvoNN", "params", Map.of("n", "256")));
        String text = Conv2dReport.report(root, 400.0, "FMA peak: 400 (test)");
        assertTrue(text.contains("| " + shape + " | 0.92 | 100.0 [100.0-200.0] (25%) | - | - | 100.0 [100.0-100.0] (25%) |"),
                text);
        assertTrue(text.contains("FMA peak: 400 (test)"), text);
        assertTrue(!text.contains("salvoNN"), "other benchmarks are ignored: " + text);
        assertTrue(Conv2dReport.report(List.of(), null, "none").contains("no Conv2dBenchmark results"));
    }

    private static Map<String, Object> run(String bench, String shape, List<Double> scores) {
        return Map.of("benchmark", "dev.salvo.bench.Conv2dBenchmark." + bench, "params", Map.of("shape", shape),
                "jdkVersion", "17", "vmName", "test", "vmVersion", "0",
                "primaryMetric", Map.of("scoreUnit", "ms/op", "rawData", List.of(scores)));
    }
}
