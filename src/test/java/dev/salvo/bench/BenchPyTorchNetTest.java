package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reference's networks ({@code pytorch_bench.py --net NAME=FILE}): the Java side reads its
 * conv2d rows; where torch is importable, the script builds a tiny CNN from Salvo's JSON, trains it
 * on standardized synthetic data and times its conv layers, and builds the recipe's CNN with
 * exactly as many parameters as Salvo's. Timings are never asserted, only that they are positive.
 */
class BenchPyTorchNetTest {

    static final String CONV_SAMPLE = BenchPyTorchParseTest.SAMPLE.replace("\"matmul\": [", "\"conv2d\": [{\"model\":"
            + " \"fashion-cnn\", \"batch\": 128, \"layer\": \"layers.4\", \"channels\": 32, \"height\": 14, \"width\": 14,"
            + " \"out_channels\": 64, \"kernel\": 3, \"stride\": 1, \"pad\": 1, \"out_height\": 14, \"out_width\": 14,"
            + " \"input_gradient\": true, \"forward_flops\": 924844032.0, \"backward_flops\": 1849688064.0,"
            + " \"forward_gflops\": {\"median\": 1.0, \"min\": 1.0, \"max\": 1.0, \"values\": [150.0, 170.0, 160.0]},"
            + " \"backward_gflops\": {\"median\": 1.0, \"min\": 1.0, \"max\": 1.0, \"values\": [80.0]},"
            + " \"forward_calls_per_sample\": 3, \"backward_calls_per_sample\": 2}], \"matmul\": [");

    @Test
    void readsTheConvRows() throws IOException {
        PyTorchReference.Result r = PyTorchReference.parse(CONV_SAMPLE);
        assertEquals(1, r.conv().size());
        BenchResults.Conv c = r.conv().get(0);
        assertEquals("pytorch", c.source());
        assertEquals("fashion-cnn", c.model());
        assertEquals("layers.4", c.layer());
        assertEquals(List.of(128, 32, 14, 14, 64, 3, 1, 1, 14, 14), List.of(c.batch(), c.channels(), c.height(), c.width(),
                c.outChannels(), c.kernel(), c.stride(), c.pad(), c.outHeight(), c.outWidth()));
        assertTrue(c.inputGradient());
        assertEquals(BenchResults.Conv.forwardFlops(128, 32, 64, 14, 14, 3), c.forwardFlops());
        assertEquals(160.0, c.forwardGflops().median(), "recomputed from the values");
        assertEquals(80.0, c.backwardGflops().median());
        assertNull(c.forwardGemmShare());
        assertEquals(PyTorchReference.CONV_METHOD, c.method());
        assertFalse(r.info().containsKey("conv2d"), "measurements are not repeated in the info");
        // an MLP-only output (and an older script's) has no conv2d rows; its networks are the widths
        PyTorchReference.Result mlp = PyTorchReference.parse(BenchPyTorchParseTest.SAMPLE);
        assertTrue(mlp.conv().isEmpty());
        assertEquals("784-512-256-10", mlp.training().get(0).network());
        IOException bad = assertThrows(IOException.class,
                () -> PyTorchReference.parse(CONV_SAMPLE.replace("\"out_channels\": 64", "\"out_channels\": \"64\"")));
        assertTrue(bad.getMessage().contains("'out_channels'"), bad.getMessage());
        IOException missing = assertThrows(IOException.class,
                () -> PyTorchReference.parse(CONV_SAMPLE.replace("\"values\": [80.0]", "\"values\": []")));
        assertTrue(missing.getMessage().contains("backward_gflops"), missing.getMessage());
    }

    @Test
    void aTinyNetworkTrainsAndItsConvLayersAreTimed(@TempDir Path tmp) throws Exception {
        String py = pythonWithTorch();
        Path script = PyTorchReference.extract(tmp);
        String json = "{\"input\": [4, 14, 14], \"layers\": ["
                + "{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"padding\": 1, \"bias\": false},"
                + "{\"type\": \"batchnorm\"}, {\"type\": \"relu\"}, {\"type\": \"maxpool\", \"kernel\": 2},"
                + "{\"type\": \"conv2d\", \"out\": 6, \"kernel\": 3, \"stride\": 2},"
                + "{\"type\": \"relu\"}, {\"type\": \"flatten\"}, {\"type\": \"dropout\", \"p\": 0.25},"
                + "{\"type\": \"dense\", \"units\": 16, \"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 10}]}";
        NetworkSpec salvo = NetworkJson.parse(json);
        Path net = Files.writeString(tmp.resolve("tiny.json"), json, StandardCharsets.UTF_8);
        List<String> log = new ArrayList<>();
        PyTorchReference.Result r = PyTorchReference.run(py, script, List.of("--synthetic", "96", "--net", "tiny=" + net,
                "--normalize", "standardize", "--batch-size", "8", "--lr", "0.002", "--weight-decay", "0.05",
                "--warmup-steps", "1", "--steps", "2", "--repeat", "2", "--sizes", "", "--conv-seconds", "0.05",
                "--threads", "1"), log::add);
        assertEquals(1, r.training().size());
        BenchResults.Training t = r.training().get(0);
        assertEquals("tiny", t.model());
        assertEquals(List.of(784, 10), t.layers(), "input and output widths");
        assertTrue(t.network().startsWith("4x14x14 conv2d(4,3x3,p1,no-bias) batchnorm relu maxpool(2) conv2d(6,3x3,s2)"),
                t::network);
        assertEquals(2, t.stepsTimed());
        assertEquals(12, t.stepsPerEpoch());
        assertTrue(t.extrapolated());
        assertTrue(r.matmul().isEmpty(), "--sizes '': no sweep");
        assertEquals("standardize", r.info().get("normalize"));
        assertTrue(String.valueOf(r.info().get("data")).contains("standardized"), () -> r.info().toString());
        assertEquals(0.05, ((Number) ((Map<?, ?>) r.info().get("optimizer")).get("weight_decay")).doubleValue());

        assertEquals(2, r.conv().size(), r.conv()::toString);
        BenchResults.Conv c1 = r.conv().get(0);
        assertEquals("layers.0", c1.layer());
        assertFalse(c1.inputGradient(), "the data needs no gradient");
        assertEquals(BenchResults.Conv.forwardFlops(8, 4, 4, 14, 14, 3), c1.forwardFlops());
        assertEquals(c1.forwardFlops(), c1.backwardFlops());
        BenchResults.Conv c2 = r.conv().get(1);
        assertEquals("layers.4", c2.layer());
        assertTrue(c2.inputGradient());
        assertEquals(List.of(4, 7, 7, 6, 2, 0, 3, 3), List.of(c2.channels(), c2.height(), c2.width(), c2.outChannels(),
                c2.stride(), c2.pad(), c2.outHeight(), c2.outWidth()));
        assertEquals(2 * c2.forwardFlops(), c2.backwardFlops());
        for (BenchResults.Conv c : r.conv()) {
            assertTrue(c.forwardGflops().min() > 0 && c.backwardGflops().min() > 0, c::toString);
            assertEquals("tiny", c.model());
            assertEquals(8, c.batch());
        }
        assertTrue(log.stream().anyMatch(l -> l.contains("layers.4 conv2d")), log::toString);
        assertEquals(ParamLayout.of(salvo).count(), parameters(r, 0), "the same parameters as Salvo's network");
    }

    @Test
    void theRecipeCnnHasSalvosParameterCount(@TempDir Path tmp) throws Exception {
        String py = pythonWithTorch();
        Path script = PyTorchReference.extract(tmp);
        Path net = Files.writeString(tmp.resolve("fashion-cnn.json"), BenchModel.FASHION_CNN.json(), StandardCharsets.UTF_8);
        PyTorchReference.Result r = PyTorchReference.run(py, script, List.of("--synthetic", "16", "--net",
                "fashion-cnn=" + net, "--batch-size", "8", "--warmup-steps", "0", "--steps", "1", "--repeat", "1",
                "--sizes", "", "--conv-seconds", "0", "--threads", "1"), l -> { });
        assertTrue(r.conv().isEmpty(), "--conv-seconds 0: not timed");
        assertEquals(ParamLayout.of(BenchModel.FASHION_CNN.spec()).count(), parameters(r, 0));
    }

    @Test
    void aNetworkTheScriptCannotBuildIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
        String py = pythonWithTorch();
        Path script = PyTorchReference.extract(tmp);
        Path net = Files.writeString(tmp.resolve("res.json"), "{\"input\": [4], \"layers\": [{\"type\": \"dense\", \"units\": 4,"
                + " \"name\": \"a\"}, {\"type\": \"dense\", \"units\": 4}, {\"type\": \"add\", \"inputs\": [\"a\", \"layers.1\"]},"
                + " {\"type\": \"dense\", \"units\": 2}]}", StandardCharsets.UTF_8);
        IOException e = assertThrows(IOException.class, () -> PyTorchReference.run(py, script, List.of("--synthetic", "16",
                "--net", "res=" + net, "--sizes", "", "--threads", "1"), l -> { }));
        assertTrue(e.getMessage().contains("--net res") && e.getMessage().contains("layers[2]"), e.getMessage());
    }

    /** The trainable values the script counted for training row {@code i} (its top-level "parameters"). */
    private static long parameters(PyTorchReference.Result r, int i) {
        Map<?, ?> m = (Map<?, ?>) r.info().get("parameters");
        return ((Number) m.get(r.training().get(i).model())).longValue();
    }

    private static String pythonWithTorch() {
        StringBuilder why = new StringBuilder();
        String py = PyTorchReference.findPython(null, why);
        Assumptions.assumeTrue(py != null, () -> "no Python with torch and numpy: " + why);
        return py;
    }
}
