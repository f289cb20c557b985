package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code salvo bench --gpt}: its options, and a tiny run on the embedded excerpt whose reference is missing. */
class BenchGptCommandTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "--gpt --models cnn | --models does not apply to --gpt",
            "--gpt --sizes 64 | --sizes does not apply to --gpt",
            "--gpt --steps 0 | --steps must be at least 1",
            "--gpt --eval-windows 0 | --eval-windows must be at least 1",
            "--text kjv.txt | --text applies to --gpt only",
            "--eval-windows 5 | --eval-windows applies to --gpt only"})
    void badOptionsAreUsageErrors(String args, String message, @TempDir Path tmp) {
        String[] a = (args + " --no-reference --out " + tmp.resolve("b")).split(" ");
        String[] all = new String[a.length + 1];
        all[0] = "bench";
        System.arraycopy(a, 0, all, 1, a.length);
        BenchCommandTest.Result r = BenchCommandTest.run(all);
        assertEquals(2, r.code(), () -> r.out() + r.err());
        assertTrue(r.err().contains(message), r::err);
    }

    @Test
    void aMissingTextIsAUsageErrorNamingIt(@TempDir Path tmp) {
        BenchCommandTest.Result r = BenchCommandTest.run("bench", "--gpt", "--text", tmp.resolve("none.txt").toString(),
                "--no-reference", "--device", "cpu", "--out", tmp.resolve("b").toString());
        assertEquals(2, r.code(), () -> r.out() + r.err());
        assertTrue(r.err().contains("none.txt"), r::err);
    }

    /** A few steps on the embedded excerpt; the reference's Python does not exist: reported as skipped, rc 0. */
    @Test
    void aTinyRunWritesTheGptReportAndAMissingReferenceIsNoFailure(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("bench");
        BenchCommandTest.Result r = BenchCommandTest.run("bench", "--gpt", "--quick", "--device", "cpu", "--steps", "12",
                "--profile-steps", "2", "--eval-windows", "4", "--python", tmp.resolve("no-python").toString(),
                "--out", dir.toString());
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("reference: pytorch skipped"), r::out);
        assertTrue(r.out().contains("tokens/s"), r::out);
        JsonNode j = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(j.path("complete").asBoolean());
        assertEquals(1, j.path("gpt").size());
        JsonNode g = j.path("gpt").get(0);
        assertEquals("cpu:0", g.path("source").asText());
        assertEquals(12, g.path("steps").asInt());
        assertEquals(2, g.path("step_seconds").path("count").asInt(), "12 steps, the first 10 not timed");
        assertTrue(g.path("tokens_per_second").path("median").asDouble() > 0);
        double val = g.path("val_loss").asDouble();
        assertTrue(val > 0 && val < 10, () -> "val loss " + val);
        assertEquals(4, g.path("val_windows").asInt());
        JsonNode shares = g.path("profile").path("shares");
        double sum = 0;
        for (String k : new String[] {"matmul", "attention", "layernorm", "optimizer", "other", "host"}) {
            assertTrue(shares.has(k), shares::toString);
            sum += shares.path(k).asDouble();
        }
        assertEquals(1.0, sum, 1e-9);
        assertTrue(shares.path("matmul").asDouble() > 0, shares::toString);
        assertEquals("skipped", j.path("references").get(0).path("status").asText());
        assertTrue(j.path("references").get(0).path("message").asText().contains("no-python"));
        assertTrue(Files.notExists(dir.resolve("kjv-genesis.txt")), "no text is written for a reference that cannot run");
        assertEquals(12, j.path("gpt_recipe").path("batch_size").asInt());
        assertTrue(j.path("data").path("embedded_excerpt").asBoolean());
    }
}
