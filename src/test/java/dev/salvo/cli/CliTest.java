package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class CliTest {

    record Result(int code, String out, String err) {
    }

    /** Writes {@code rows} rows of 64 small integer features (digits-shaped input for predict) to {@code csv}. */
    static java.nio.file.Path featureRows(java.nio.file.Path csv, int rows) throws java.io.IOException {
        StringBuilder sb = new StringBuilder();
        for (int row = 0; row < rows; row++) {
            for (int c = 0; c < 64; c++) {
                sb.append(c == 0 ? "" : ",").append((row * 7 + c) % 17);
            }
            sb.append('\n');
        }
        return java.nio.file.Files.writeString(csv, sb);
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--epochs 0|--epochs",
        "--epochs -3|--epochs",
        "--batch-size 0|--batch-size",
        "--lr 0|--lr",
        "--lr NaN|--lr",
        "--lr Infinity|--lr",
        "--lr abc|--lr",
        "--optimizer rmsprop|--optimizer",
        "--activation swish|--activation",
        "--schedule linear|--schedule",
        "--device tpu|--device",
        "--device cpu:x|--device",
        "--layers 10,128,10|--layers",
        "--layers 64,128,7|--layers",
        "--layers 64|--layers",
        "--loss hinge|--loss",
        "--frobnicate|--frobnicate",
        "--data nosuch|--data"})
    void badInputIsOneLineNamingTheOptionWithExitCode2(String args, String option) {
        Result r = run(("train --no-progress " + args).split(" "));
        assertEquals(2, r.code(), r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        assertTrue(msg.contains(option), "names " + option + ": " + msg);
    }

    @Test
    void anUnavailableNamedDeviceIsAnErrorNotAFallback() {
        // cuda:99: unavailable on every machine, GPU node or not
        Result r = run("train", "--no-progress", "--device", "cuda:99");
        assertEquals(Main.EXIT_UNAVAILABLE, r.code(), r.err());
        assertTrue(r.err().contains("cuda:99") && r.err().contains("unavailable"), r.err());
        assertTrue(r.out().isEmpty(), "nothing trained: " + r.out());
    }

    @Test
    void trainReportsDeviceEpochsAndTestAccuracy() {
        Result r = run("train", "--epochs", "3", "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("device: using cpu:0"), r.out());
        assertTrue(r.out().contains("epoch   3/3"), r.out());
        assertTrue(r.out().contains("test accuracy"), r.out());
        assertTrue(r.out().contains("samples/s"), r.out());
        double acc = Double.parseDouble(r.out().replaceAll("(?s).*test accuracy ([0-9.]+)%.*", "$1"));
        assertTrue(acc > 85, "3 epochs already learn the digits: " + acc);
    }

    @Test
    void devicesListsEveryProvider() {
        Result r = run("devices");
        assertEquals(0, r.code(), r.err());
        for (String p : new String[] {"cpu", "reference", "opencl", "cuda"}) {
            assertTrue(r.out().contains(p), p + " missing: " + r.out());
        }
        assertTrue(r.out().contains("compute units"), r.out());
    }

    @Test
    void checkPrintsATableAndWritesJson(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path json = dir.resolve("check.json");
        Result r = run("check", "--device", "cpu", "--json", json.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("matmul") && r.out().contains("adamw") && r.out().contains("train: per-step loss"), r.out());
        assertTrue(r.out().contains("0 failed"), r.out());
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.toFile());
        assertTrue(doc.get("passed").asBoolean());
        assertTrue(doc.get("results").size() > 40, doc.toString());
        assertEquals("cpu:0", doc.get("results").get(0).get("device").asText());
    }

    @Test
    void checkOfAnUnknownDeviceIsBadInput() {
        Result r = run("check", "--device", "tpu");
        assertEquals(2, r.code(), r.err());
    }

    @Test
    void divergenceExitsWith4AndNamesTheLayer() {
        Result r = run("train", "--no-progress", "--optimizer", "sgd", "--lr", "1e6", "--epochs", "2", "--device", "cpu");
        assertEquals(Main.EXIT_DIVERGED, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("diverged") && r.err().contains("epoch 1"), r.err());
    }
}
