package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The Java side's reading of pytorch_bench.py's output, on a canned sample of it. */
class BenchPyTorchParseTest {

    static final String SAMPLE = "some warning a library printed on stdout\n"
            + "{\"reference\": \"pytorch\", \"torch_version\": \"1.13.0a0\", \"numpy_version\": \"1.24.2\","
            + " \"python_version\": \"3.11.2\", \"threads\": 2, \"env\": {\"OPENBLAS_CORETYPE\": \"SkylakeX\"},"
            + " \"blas\": \"generic\", \"mkldnn\": true, \"data\": \"IDX files in /usr/share/datasets/fashion-mnist, pixels / 255\","
            + " \"optimizer\": {\"name\": \"adamw\", \"lr\": 0.001}, \"training\": [{\"model\": \"fashion-mlp\","
            + " \"layers\": [784, 512, 256, 10], \"batch_size\": 128, \"rows_per_epoch\": 60000, \"steps_per_epoch\": 469,"
            + " \"steps_timed\": 469, \"warmup_steps\": 200, \"extrapolated\": false,"
            + " \"seconds_per_epoch\": {\"median\": 3.0, \"min\": 2.5, \"max\": 4.0, \"values\": [3.0, 2.5, 4.0]},"
            + " \"samples_per_second\": {\"median\": 20000.0, \"min\": 15000.0, \"max\": 24000.0, \"values\": [20000.0, 24000.0, 15000.0]},"
            + " \"mean_loss\": 0.4193}, {\"model\": \"mlp-2048\", \"layers\": [784, 2048, 2048, 10], \"batch_size\": 128,"
            + " \"rows_per_epoch\": 60000, \"steps_per_epoch\": 469, \"steps_timed\": 100, \"warmup_steps\": 50, \"extrapolated\": true,"
            + " \"seconds_per_epoch\": {\"median\": 30.0, \"min\": 30.0, \"max\": 30.0, \"values\": [30.0]},"
            + " \"samples_per_second\": {\"median\": 2000.0, \"min\": 2000.0, \"max\": 2000.0, \"values\": [2000.0]},"
            + " \"mean_loss\": 0.5}],"
            + " \"matmul\": [{\"n\": 128, \"calls_per_sample\": 500, \"gflops\": {\"median\": 80.0, \"min\": 70.0, \"max\": 90.0,"
            + " \"values\": [70.0, 80.0, 90.0]}}, {\"n\": 1024, \"calls_per_sample\": 10, \"gflops\": {\"median\": 250.5,"
            + " \"min\": 250.5, \"max\": 250.5, \"values\": [250.5]}}]}\n";

    @Test
    void readsTheScriptsJson() throws IOException {
        PyTorchReference.Result r = PyTorchReference.parse(SAMPLE);
        assertEquals("PyTorch 1.13.0a0 CPU, 2 threads, BLAS generic", r.description());
        assertEquals(2, r.training().size());
        BenchResults.Training t = r.training().get(0);
        assertEquals("pytorch", t.source());
        assertEquals("fashion-mlp", t.model());
        assertEquals(List.of(784, 512, 256, 10), t.layers());
        assertEquals(469, t.stepsTimed());
        assertEquals(200, t.warmupSteps());
        // the median is recomputed from the values, not trusted
        assertEquals(20000.0, t.samplesPerSecond().median());
        assertEquals(15000.0, t.samplesPerSecond().min());
        assertEquals(24000.0, t.samplesPerSecond().max());
        assertEquals(3.0, t.secondsPerEpoch().median());
        assertEquals(0.4193, t.meanLoss());
        assertNull(t.profile());
        assertTrue(r.training().get(1).extrapolated());
        assertEquals(2, r.matmul().size());
        assertEquals(1024, r.matmul().get(1).n());
        assertEquals(250.5, r.matmul().get(1).gflops().median());
        assertEquals("SkylakeX", ((java.util.Map<?, ?>) r.info().get("env")).get("OPENBLAS_CORETYPE"));
        assertTrue(!r.info().containsKey("training"), "measurements are not repeated in the info");
    }

    @Test
    void badOutputNamesWhatIsWrong() {
        IOException none = assertThrows(IOException.class, () -> PyTorchReference.parse("Traceback (most recent call last):\n"));
        assertTrue(none.getMessage().contains("no JSON"), none.getMessage());
        IOException broken = assertThrows(IOException.class, () -> PyTorchReference.parse("{\"torch_version\": \n"));
        assertTrue(broken.getMessage().contains("malformed"), broken.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> PyTorchReference.parse(SAMPLE.replace("\"threads\": 2, ", "")));
        assertTrue(missing.getMessage().contains("'threads'"), missing.getMessage());
        IOException negative = assertThrows(IOException.class,
                () -> PyTorchReference.parse(SAMPLE.replace("[20000.0, 24000.0, 15000.0]", "[20000.0, -1.0]")));
        assertTrue(negative.getMessage().contains("samples_per_second"), negative.getMessage());
        IOException empty = assertThrows(IOException.class,
                () -> PyTorchReference.parse(SAMPLE.replace("[70.0, 80.0, 90.0]", "[]")));
        assertTrue(empty.getMessage().contains("gflops"), empty.getMessage());
        IOException notInt = assertThrows(IOException.class,
                () -> PyTorchReference.parse(SAMPLE.replace("\"n\": 128", "\"n\": \"128\"")));
        assertTrue(notInt.getMessage().contains("'n'"), notInt.getMessage());
    }

    @Test
    void statsMedianAndRange() {
        Stats odd = Stats.of(3, 1, 2);
        assertEquals(2, odd.median());
        assertEquals(1, odd.min());
        assertEquals(3, odd.max());
        assertEquals(List.of(3.0, 1.0, 2.0), odd.values());
        assertEquals(2.5, Stats.of(4, 1, 3, 2).median());
        assertEquals(7, Stats.of(7).median());
        assertThrows(IllegalArgumentException.class, () -> Stats.of(new double[0]));
    }
}
