package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.TextCorpus;
import dev.salvo.data.Vocabulary;
import dev.salvo.io.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Text data end to end: train a tiny language model on the embedded Genesis, then generate and eval with its saved vocabulary. */
class TextCliTest {

    /** A tiny language model over Genesis's 70 characters: (16, 1) ids -> dense over the last axis -> (16, 70) logits. */
    private static Path tinyNet(Path dir) throws Exception {
        int v = TextCorpus.of("g", TextCorpus.genesis(), 16, 0.1).vocabulary().size();
        return Files.writeString(dir.resolve("lm.json"), "{\"input\": [16, 1], \"layers\": [{\"type\": \"dense\", \"units\": 16},"
                + " {\"type\": \"relu\"}, {\"type\": \"dense\", \"units\": " + v + "}], \"loss\": \"cross-entropy\"}");
    }

    private static CliTest.Result ok(CliTest.Result r) {
        assertEquals(0, r.code(), r.out() + r.err());
        return r;
    }

    private static void trainThenGenerate(Path dir, List<String> net) throws Exception {
        Path run = dir.resolve("run");
        List<String> args = new java.util.ArrayList<>(List.of("train", "--data", "kjv-genesis", "--steps", "12", "--eval-every", "5",
                "--batch-size", "4", "--eval-windows", "20", "--device", "cpu", "--no-progress", "--out", run.toString()));
        args.addAll(net);
        CliTest.Result r = ok(CliTest.run(args.toArray(String[]::new)));
        assertTrue(r.out().contains("vocabulary 70"), r.out());
        List<String> metrics = Files.readAllLines(run.resolve("metrics.csv"));
        assertEquals(4, metrics.size(), String.join("\n", metrics)); // epochs of 5, 5 and 2 steps
        assertTrue(metrics.get(3).startsWith("3,12,"), metrics.get(3));
        Path model = run.resolve("model.safetensors");
        ModelFile.Loaded m = ModelFile.load(model);
        assertEquals(70, Vocabulary.parse(m.metadata().get(Vocabulary.METADATA_KEY)).size());

        String[] gen = {"generate", "--model", model.toString(), "--prompt", "In the beginning", "--tokens", "40", "--seed", "7",
                "--device", "cpu"};
        String a = ok(CliTest.run(gen)).out();
        String b = ok(CliTest.run(gen)).out();
        assertEquals(a, b);
        assertTrue(a.startsWith("In the beginning") && a.codePointCount(0, a.length()) >= 16 + 40, a);
        gen[8] = "8";
        assertNotEquals(a, ok(CliTest.run(gen)).out());

        CliTest.Result bad = CliTest.run("generate", "--model", model.toString(), "--prompt", "In the \u20ac", "--device", "cpu");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("'\u20ac' (U+20AC)"), bad.err());
        for (String[] o : new String[][] {{"--tokens", "-1"}, {"--temperature", "0"}, {"--top-k", "0"}}) {
            CliTest.Result e = CliTest.run("generate", "--model", model.toString(), o[0], o[1]);
            assertEquals(2, e.code(), e.err());
            assertTrue(e.err().contains(o[0]), e.err());
        }

        CliTest.Result ev = ok(CliTest.run("eval", "--model", model.toString(), "--data", "kjv-genesis", "--eval-windows", "30",
                "--device", "cpu"));
        assertTrue(ev.out().contains("30 windows of 16") && ev.out().contains("next-character accuracy"), ev.out());
        Path other = Files.writeString(dir.resolve("other.txt"), "In the beginning God created the heaven and the earth. \u00c6on\n".repeat(5));
        CliTest.Result outside = CliTest.run("eval", "--model", model.toString(), "--data", "text:" + other, "--val-fraction", "1");
        assertEquals(2, outside.code(), outside.err());
        assertTrue(outside.err().contains("byte 55: the character ") && outside.err().contains("(U+00C6)"), outside.err());
    }

    @Test
    void aLanguageModelNetTrainsOnGenesisThenGeneratesReproducibly(@TempDir Path dir) throws Exception {
        trainThenGenerate(dir, List.of("--net", tinyNet(dir).toString()));
    }

    @Test
    void aTinyGptTrainsOnGenesisThenGeneratesReproducibly(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(gptPresent(), "dev.salvo.nn.Gpt is not in this build yet");
        trainThenGenerate(dir, List.of("--gpt", "1,2,16", "--context", "16"));
    }

    private static boolean gptPresent() {
        try {
            Class.forName("dev.salvo.nn.Gpt");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    @Test
    void badTextOptionsAreUsageErrors(@TempDir Path dir) throws Exception {
        Path net = tinyNet(dir);
        Path bad = Files.write(dir.resolve("bad.txt"), new byte[] {'a', 'b', 'c', (byte) 0xFF, 'd'});
        CliTest.Result r = CliTest.run("train", "--data", "text:" + bad, "--net", net.toString(), "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains(bad + ": byte 3: not UTF-8"), r.err());
        r = CliTest.run("train", "--data", "kjv-genesis", "--net", net.toString(), "--context", "32", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--context 32 disagrees"), r.err());
        r = CliTest.run("train", "--data", "kjv-genesis", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--gpt"), r.err());
        r = CliTest.run("train", "--data", "kjv-genesis", "--net", net.toString(), "--epochs", "3", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--epochs does not apply to text data"), r.err());
        r = CliTest.run("train", "--data", "digits", "--steps", "10", "--device", "cpu");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--steps applies to text data only"), r.err());
    }
}
