package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped pytorch_bench.py itself: its --help runs on any python3 (torch is imported only
 * after the options are read), and where torch is importable a tiny run prints JSON that
 * {@link PyTorchReference#parse} accepts. Skipped, with the reason, where there is no Python or no torch.
 */
class BenchPyTorchScriptTest {

    @Test
    void helpRunsByHand(@TempDir Path tmp) throws Exception {
        Path script = PyTorchReference.extract(tmp);
        List<String> cmd = new ArrayList<>();
        cmd.add("python3"); // any python3: --help needs neither torch nor numpy
        cmd.add(script.toString());
        cmd.add("--help");
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            Assumptions.abort("no python3 on this machine: " + e.getMessage());
            return;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("--batch-size") && out.contains("--max-epoch-seconds") && out.contains("--synthetic"), out);
    }

    @Test
    void aTinyRunPrintsJsonTheParserReads(@TempDir Path tmp) throws Exception {
        StringBuilder why = new StringBuilder();
        String py = PyTorchReference.findPython(null, why);
        Assumptions.assumeTrue(py != null, () -> "no Python with torch and numpy: " + why);
        Path script = PyTorchReference.extract(tmp);
        assertTrue(Files.size(script) > 1000);
        List<String> log = new ArrayList<>();
        PyTorchReference.Result r = PyTorchReference.run(py, script, List.of("--synthetic", "512", "--model", "tiny=784,32,10",
                "--warmup-steps", "2", "--steps", "3", "--repeat", "2", "--sizes", "16,32", "--sweep-seconds", "0.05",
                "--threads", "1"), log::add);
        assertEquals(1, r.training().size());
        BenchResults.Training t = r.training().get(0);
        assertEquals("tiny", t.model());
        assertEquals(List.of(784, 32, 10), t.layers());
        assertEquals(3, t.stepsTimed());
        assertEquals(4, t.stepsPerEpoch());
        assertTrue(t.extrapolated());
        assertEquals(2, t.samplesPerSecond().values().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(512, t.samplesPerSecond().values().get(i) * t.secondsPerEpoch().values().get(i), 1e-6 * 512);
        }
        assertTrue(t.meanLoss() > 0 && t.meanLoss() < 10, () -> "loss " + t.meanLoss());
        assertEquals(List.of(16, 32), r.matmul().stream().map(BenchResults.Matmul::n).toList());
        assertTrue(r.description().contains("1 threads"), r.description());
        assertTrue(log.stream().anyMatch(l -> l.contains("pass 2/2")), log::toString);
        // the BLAS the script found loaded in its own process, and what it reports of itself
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> blas = (java.util.Map<String, Object>) r.info().get("blas_kernel");
        assertTrue(blas != null && blas.get("library") instanceof String lib && !lib.isBlank(), () -> "blas_kernel: " + r.info());
        if ("OpenBLAS".equals(blas.get("library"))) {
            assertTrue(blas.get("core") instanceof String core && !core.isBlank(), blas::toString);
            assertTrue(String.valueOf(blas.get("config")).startsWith("OpenBLAS"), blas::toString);
        }
        assertTrue(r.description().contains("BLAS " + blas.get("library")), r.description());
        @SuppressWarnings("unchecked")
        java.util.Map<String, Object> env = (java.util.Map<String, Object>) r.info().get("env");
        assertTrue(env != null && !env.containsKey("OPENBLAS_CORETYPE") && !env.containsKey("OPENBLAS_L2_SIZE"),
                () -> "the reference ran on OpenBLAS's own core choice: " + env);
    }
}
