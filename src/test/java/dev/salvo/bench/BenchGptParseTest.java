package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.device.Op;
import dev.salvo.device.ops.AttentionOps;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.device.ops.OptimizerOps;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPT side of {@code salvo bench --gpt} without training or torch: the reading of
 * pytorch_gpt_bench.py's output (a canned sample of it), the spreads, the grouping of a profile by
 * op family, the table and bench.json with and without the reference, and the script's options
 * as the recipe passes them. Fast: nothing is trained.
 */
class BenchGptParseTest {

    static final String SAMPLE = "a line a library printed\n"
            + "{\"reference\": \"pytorch\", \"benchmark\": \"gpt\", \"torch_version\": \"1.13.0a0\", \"python_version\": \"3.11.2\","
            + " \"threads\": 2, \"interop_threads\": 1, \"env\": {\"OMP_WAIT_POLICY\": \"PASSIVE\"},"
            + " \"blas\": \"OpenBLAS 0.3.21 (core Cooperlake)\", \"blas_kernel\": {\"library\": \"OpenBLAS\", \"optimized\": true},"
            + " \"attention\": \"baddbmm\", \"text\": {\"path\": \"/tmp/kjv.txt\", \"vocab\": 73, \"val_windows\": 1000},"
            + " \"model\": {\"layers\": 4, \"heads\": 4, \"embd\": 128, \"context\": 64, \"vocab\": 73, \"parameters\": 809600},"
            + " \"batch_size\": 12, \"seed\": 1,"
            + " \"gpt\": {\"steps\": 2000, \"skipped_steps\": 10, \"timed_steps\": 1990, \"tokens_per_step\": 768,"
            + " \"step_seconds\": {\"median\": 0.048, \"min\": 0.03, \"max\": 1.2, \"p10\": 0.04, \"p90\": 0.096, \"mean\": 0.06,"
            + " \"count\": 1990}, \"train_seconds\": 119.0, \"eval_seconds\": 1.8, \"wall_seconds\": 121.7,"
            + " \"first_loss\": 4.3, \"final_train_loss\": 1.47, \"val_loss\": 1.6318, \"val_windows\": 1000,"
            + " \"block_median_seconds\": [0.05, 0.047]}}\n";

    @Test
    void readsTheScriptsJson() throws IOException {
        PyTorchReference.GptResult r = PyTorchReference.parseGpt(SAMPLE);
        assertEquals("PyTorch 1.13.0a0 CPU, 2 threads, BLAS OpenBLAS 0.3.21 (core Cooperlake)", r.description());
        BenchResults.Gpt g = r.gpt();
        assertEquals("pytorch", g.source());
        assertEquals("gpt 4x4x128 T64", g.model());
        assertEquals(809600, g.parameters());
        assertEquals(12, g.batchSize());
        assertEquals(64, g.context());
        assertEquals(2000, g.steps());
        assertEquals(10, g.skippedSteps());
        assertEquals(0.048, g.stepSeconds().median());
        assertEquals(1990, g.stepSeconds().count());
        // tokens/s from the step times: the slowest step is the smallest rate
        assertEquals(768 / 0.048, g.tokensPerSecond().median(), 1e-9);
        assertEquals(768 / 1.2, g.tokensPerSecond().min(), 1e-9);
        assertEquals(768 / 0.03, g.tokensPerSecond().max(), 1e-9);
        assertEquals(768 / 0.096, g.tokensPerSecond().p10(), 1e-9);
        assertEquals(768 / 0.06, g.tokensPerSecond().mean(), 1e-9);
        assertEquals(1.6318, g.valLoss());
        assertEquals(1000, g.valWindows());
        assertEquals(1.47, g.finalTrainLoss());
        assertNull(g.profile());
        assertEquals(List.of(0.05, 0.047), g.blockMedians());
        assertEquals("baddbmm", r.info().get("attention"));
        assertFalse(r.info().containsKey("gpt"), "measurements are not repeated in the info");
    }

    @Test
    void badOutputNamesWhatIsWrong() {
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt("Traceback\n")).getMessage()
                .contains("pytorch_gpt_bench.py printed no JSON"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt("{\"gpt\": \n")).getMessage()
                .contains("malformed"));
        String noGpt = SAMPLE.substring(0, SAMPLE.indexOf(", \"gpt\"")) + "}\n";
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(noGpt)).getMessage().contains("'gpt'"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(SAMPLE.replace("\"val_loss\": 1.6318",
                "\"val_loss\": -1"))).getMessage().contains("val_loss"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(SAMPLE.replace("\"median\": 0.048",
                "\"median\": 2.0"))).getMessage().contains("not ordered"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(SAMPLE.replace("\"min\": 0.03",
                "\"min\": 0"))).getMessage().contains("step_seconds.min"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(SAMPLE.replace("\"tokens_per_step\": 768",
                "\"tokens_per_step\": 769"))).getMessage().contains("tokens_per_step"));
        assertTrue(assertThrows(IOException.class, () -> PyTorchReference.parseGpt(SAMPLE.replace("\"steps\": 2000",
                "\"steps\": 2000.5"))).getMessage().contains("'steps'"));
    }

    @Test
    void blockMediansLeaveTheSkippedStepsOut() {
        double[] steps = new double[250];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = i < 10 ? 9.0 : i < 100 ? 1.0 : i < 200 ? 2.0 : 3.0;
        }
        assertEquals(List.of(1.0, 2.0, 3.0), BenchResults.Gpt.blockMedians(steps, 10));
        assertEquals(List.of(4.0), BenchResults.Gpt.blockMedians(new double[] {1, 3, 5}, 1));
    }

    @Test
    void spreadsAndRates() {
        BenchResults.Spread s = BenchResults.Spread.of(new double[] {4, 1, 3, 2, 5});
        assertEquals(3, s.median());
        assertEquals(1, s.min());
        assertEquals(5, s.max());
        assertEquals(1.4, s.p10(), 1e-12); // numpy's linear percentile
        assertEquals(4.6, s.p90(), 1e-12);
        assertEquals(3, s.mean());
        assertEquals(5, s.count());
        BenchResults.Spread r = s.rate(60);
        assertEquals(20, r.median());
        assertEquals(12, r.min());
        assertEquals(60, r.max());
        assertEquals(60 / 4.6, r.p10(), 1e-12);
        assertEquals(20, r.mean());
        assertEquals(2.5, BenchResults.Spread.of(new double[] {1, 2, 3, 4}).median());
        assertThrows(IllegalArgumentException.class, () -> BenchResults.Spread.of(new double[0]));
        assertThrows(IllegalArgumentException.class, () -> BenchResults.Spread.of(new double[] {1, Double.NaN}));
    }

    @Test
    void theProfileGroupsOpsByFamily() {
        Map<Op, long[]> accounts = new LinkedHashMap<>();
        accounts.put(MatmulOps.MATMUL, new long[] {400_000_000L, 50});
        accounts.put(AttentionOps.CAUSAL_SOFTMAX, new long[] {100_000_000L, 8});
        accounts.put(AttentionOps.HEADS_SPLIT, new long[] {50_000_000L, 8});
        accounts.put(OptimizerOps.ADAM_UPDATE, new long[] {100_000_000L, 2});
        accounts.put(ElementwiseOps.FILL, new long[] {50_000_000L, 20});
        long[] transfers = {3, 10_000_000L, 2, 20_000_000L};
        BenchResults.GptProfile p = GptBench.profileOf(2, 1.0, accounts, transfers);
        assertEquals(List.of("matmul", "attention", "layernorm", "optimizer", "other", "host"), List.copyOf(p.shares().keySet()));
        assertEquals(0.4, p.shares().get("matmul"), 1e-12);
        assertEquals(0.15, p.shares().get("attention"), 1e-12);
        assertEquals(0.0, p.shares().get("layernorm"), 1e-12);
        assertEquals(0.1, p.shares().get("optimizer"), 1e-12);
        assertEquals(0.05, p.shares().get("other"), 1e-12);
        assertEquals(0.3, p.shares().get("host"), 1e-12);
        assertEquals(0.15, p.families().get("attention"), 1e-12);
        assertEquals(8, p.ops().get("causal-softmax").calls());
        assertEquals(3, p.ops().get("upload").calls());
        assertEquals(0.02, p.ops().get("download").seconds(), 1e-12);
        // op time over the wall time (clock granularity): no negative host share
        BenchResults.GptProfile tight = GptBench.profileOf(2, 0.5, accounts, new long[4]);
        assertEquals(0.0, tight.shares().get("host"), 1e-12);
        assertEquals(1.0, tight.shares().values().stream().mapToDouble(Double::doubleValue).sum(), 1e-12);
    }

    @Test
    void theTableAndJsonCompareWithTheReference(@TempDir Path tmp) throws IOException {
        BenchReport report = new BenchReport(new LinkedHashMap<>(Map.of("command", "salvo bench --gpt")));
        report.device("cpu:0", "test cpu", "");
        BenchResults.Spread steps = BenchResults.Spread.of(new double[] {0.04, 0.05, 0.06});
        Map<Op, long[]> accounts = Map.of(MatmulOps.MATMUL, new long[] {500_000_000L, 10});
        report.add(new BenchResults.Gpt("cpu:0", "test cpu", "gpt 4x4x128 T64", 809600, 12, 64, 2000, 10, steps,
                steps.rate(768), 100, 102, 1.65, 1000, 1.5, GptBench.profileOf(20, 1.0, accounts, new long[4]), GptBench.TIMING,
                List.of(0.05)));
        PyTorchReference.GptResult ref = PyTorchReference.parseGpt(SAMPLE);
        report.gptReference(new BenchReport.Reference("pytorch", "ok", ref.description(), ref.info()), ref);
        report.complete();
        StringWriter text = new StringWriter();
        report.printTables(new PrintWriter(text, true));
        String out = text.toString();
        // cpu: 768 / 0.05 = 15,360 tokens/s against 768 / 0.048 = 16,000: 0.96x, val loss +0.018
        assertTrue(out.contains("15,360 [12,800-19,200]"), out);
        assertTrue(out.contains("0.96x +0.018"), out);
        assertTrue(out.contains("50%"), out); // matmul share
        assertTrue(out.contains("1.6318"), out);
        assertFalse(out.contains("samples/s"), "no MLP table in a GPT run: " + out);
        JsonNode j = new ObjectMapper().readTree(report.writeJson(tmp).toFile());
        assertEquals(2, j.path("gpt").size());
        assertEquals(15360, j.path("gpt").get(0).path("tokens_per_second").path("median").asDouble(), 1e-6);
        assertEquals(0.5, j.path("gpt").get(0).path("profile").path("shares").path("matmul").asDouble(), 1e-12);
        JsonNode cmp = j.path("gpt_comparisons").get(0);
        assertEquals("cpu:0", cmp.path("source").asText());
        assertEquals(0.96, cmp.path("tokens_per_second_ratio").asDouble(), 1e-12);
        assertEquals(0.0182, cmp.path("val_loss_difference").asDouble(), 1e-12);
        assertEquals("ok", j.path("references").get(0).path("status").asText());
    }

    @Test
    void aMissingReferenceIsReportedNotFailed(@TempDir Path tmp) throws IOException {
        BenchReport report = new BenchReport(new LinkedHashMap<>());
        BenchResults.Spread steps = BenchResults.Spread.of(new double[] {0.05});
        report.add(new BenchResults.Gpt("cpu:0", "test cpu", "gpt 4x4x128 T64", 1, 12, 64, 20, 10, steps, steps.rate(768), 1, 1,
                3.0, 10, 3.1, null, GptBench.TIMING, List.of()));
        report.gptReference(new BenchReport.Reference("pytorch", "skipped", "no Python with torch and numpy (python3: not found)",
                Map.of()), null);
        StringWriter text = new StringWriter();
        report.printTables(new PrintWriter(text, true));
        assertTrue(text.toString().contains("reference pytorch: skipped: no Python with torch"), text::toString);
        JsonNode j = new ObjectMapper().readTree(report.writeJson(tmp).toFile());
        assertEquals(0, j.path("gpt_comparisons").size());
        assertEquals("skipped", j.path("references").get(0).path("status").asText());
        assertTrue(Double.isNaN(report.gptSpeedVsPyTorch(report.gpt().get(0))));
    }

    /** Every option the recipe passes is one the script declares (its --help runs on any python3, without torch). */
    @Test
    void theScriptTakesTheRecipesOptions(@TempDir Path tmp) throws Exception {
        GptBench.Recipe recipe = GptBench.Recipe.babyGpt(2000, 12);
        List<String> args = recipe.pytorchArgs(tmp.resolve("kjv.txt"), 2, 10);
        assertEquals("--text", args.get(0));
        assertEquals("0.99", args.get(args.indexOf("--beta2") + 1));
        assertEquals("1.0E-4", args.get(args.indexOf("--min-lr") + 1));
        assertEquals("100", args.get(args.indexOf("--warmup") + 1));
        assertEquals("1000", args.get(args.indexOf("--eval-windows") + 1));
        Path script = PyTorchReference.extractGpt(tmp);
        assertTrue(Files.isRegularFile(tmp.resolve(PyTorchReference.SCRIPT_NAME)), "its BLAS detection lies beside it");
        List<String> cmd = new ArrayList<>(List.of("python3", script.toString(), "--help"));
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no python3 on this machine: " + e.getMessage());
            return;
        }
        String help = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), help);
        for (String a : args) {
            if (a.startsWith("--")) {
                assertTrue(help.contains(a + " "), () -> a + " is not an option of the script:\n" + help);
            }
        }
    }

    /** Where a Python imports torch: a tiny run of the script on the embedded excerpt prints JSON the parser reads. */
    @Test
    void aTinyRunPrintsJsonTheParserReads(@TempDir Path tmp) throws Exception {
        StringBuilder why = new StringBuilder();
        String py = PyTorchReference.findPython(null, why);
        Assumptions.assumeTrue(py != null, () -> "no Python with torch and numpy: " + why);
        Path script = PyTorchReference.extractGpt(tmp);
        Path text = tmp.resolve("genesis.txt");
        Files.write(text, dev.salvo.data.TextCorpus.genesis());
        GptBench.Recipe tiny = new GptBench.Recipe(1, 2, 16, 8, 4, 13, 1e-3, 1e-4, 2, 0.9, 0.99, 1e-8, 0.1, 1.0, 0.1, 5, 1);
        List<String> log = new ArrayList<>();
        PyTorchReference.GptResult r = PyTorchReference.runGpt(py, script, tiny.pytorchArgs(text, 1, 10), log::add);
        BenchResults.Gpt g = r.gpt();
        assertEquals("gpt 1x2x16 T8", g.model());
        assertEquals(13, g.steps());
        assertEquals(3, g.stepSeconds().count(), "13 steps, the first 10 not timed");
        assertEquals(5, g.valWindows());
        assertTrue(g.valLoss() > 1 && g.valLoss() < 6, () -> "val loss " + g.valLoss());
        assertTrue(r.description().contains("1 threads"), r.description());
        @SuppressWarnings("unchecked")
        Map<String, Object> textInfo = (Map<String, Object>) r.info().get("text");
        // the vocabulary and split of Salvo's TextCorpus over the same bytes
        dev.salvo.data.TextCorpus corpus = dev.salvo.data.TextCorpus.of("genesis", dev.salvo.data.TextCorpus.genesis(), 8, 0.1);
        assertEquals(corpus.vocabulary().size(), ((Number) textInfo.get("vocab")).intValue());
        assertEquals(corpus.trainLength(), ((Number) textInfo.get("train_tokens")).intValue());
        @SuppressWarnings("unchecked")
        Map<String, Object> env = (Map<String, Object>) r.info().get("env");
        assertTrue(!env.containsKey("OPENBLAS_CORETYPE") && !env.containsKey("OPENBLAS_L2_SIZE"), env::toString);
        assertTrue(log.stream().anyMatch(l -> l.contains("validation loss")), log::toString);
    }
}
