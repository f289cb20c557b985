package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.io.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committed {@code gpt_reference.safetensors} is what the shipped {@code gpt_reference.py}
 * writes today: with {@code /usr/bin/python3} and torch, the script runs again on the same text
 * (the metadata's {@code text_source}: {@code command:bible ...} runs the {@code bible} program,
 * {@code resource:/...} reads a test or main resource; its SHA-256 must be the recorded one) and
 * the new file must hold the same metadata (the torch version aside), the same tensors, the
 * inputs and initial weights bitwise, every computed tensor within {@code 1e-6} of its largest
 * magnitude (float64 results rounded to float32: a different PyTorch build may move one by an
 * ulp, 6e-8). Skipped, with the reason, without torch or without the text.
 */
class GptReferenceScriptTest {

    private static final String PYTHON = "/usr/bin/python3";

    @Test
    void theScriptStillWritesTheCommittedReference(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of(PYTHON)), "no " + PYTHON);
        Run torch = run(List.of(PYTHON, "-c", "import torch; print(torch.__version__)"), 120);
        Assumptions.assumeTrue(torch.rc == 0, PYTHON + " cannot import torch: " + lastLine(torch.out));

        Path committedFile = dir.resolve("committed.safetensors");
        try (InputStream in = getClass().getResourceAsStream("/pytorch/gpt_reference.safetensors")) {
            assertTrue(in != null, "the test resource pytorch/gpt_reference.safetensors is missing");
            Files.write(committedFile, in.readAllBytes());
        }
        SafeTensors.Contents committed = SafeTensors.read(committedFile);
        Map<String, String> meta = committed.metadata();
        Path text = dir.resolve("text.txt");
        String source = meta.get("text_source");
        byte[] bytes = text(source);
        Assumptions.assumeTrue(bytes != null, "the reference's text is not available here: " + source);
        Files.write(text, bytes);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        Assumptions.assumeTrue(sha.equals(meta.get("text_sha256")), "the text " + source + " here has SHA-256 " + sha
                + ", the reference was made from " + meta.get("text_sha256"));

        Path script = dir.resolve("gpt_reference.py");
        try (InputStream in = getClass().getResourceAsStream("/pytorch/gpt_reference.py")) {
            assertTrue(in != null, "the test resource pytorch/gpt_reference.py is missing");
            Files.write(script, in.readAllBytes());
        }
        Path out = dir.resolve("out.safetensors");
        Run r = run(List.of(PYTHON, script.toString(), text.toString(), out.toString(), source), 600);
        assertEquals(0, r.rc, r.out);
        SafeTensors.Contents fresh = SafeTensors.read(out);

        Map<String, String> a = new HashMap<>(meta);
        Map<String, String> b = new HashMap<>(fresh.metadata());
        a.remove("torch");
        b.remove("torch");
        assertEquals(a, b, "metadata (the torch version aside)");
        assertEquals(names(committed), names(fresh), "the same tensors in the same order");
        for (SafeTensors.Tensor want : committed.tensors()) {
            SafeTensors.Tensor got = fresh.find(want.name());
            assertArrayEquals(want.shape(), got.shape(), want.name());
            if (want.name().startsWith("init.") || want.name().equals("x") || want.name().equals("y")) {
                assertArrayEquals(want.data(), got.data(), want.name() + ": inputs and initial weights bitwise");
                continue;
            }
            double max = 0;
            for (float v : want.data()) {
                max = Math.max(max, Math.abs(v));
            }
            for (int i = 0; i < want.data().length; i++) {
                double err = Math.abs(got.data()[i] - (double) want.data()[i]);
                assertTrue(err <= 1e-6 * max, want.name() + "[" + i + "]: committed " + want.data()[i] + ", the script now "
                        + got.data()[i]);
            }
        }
    }

    /** The text the reference was made from, or null when it cannot be had here. */
    private static byte[] text(String source) throws IOException {
        if (source.startsWith("command:bible ")) {
            Path bible = Path.of("/usr/bin/bible");
            if (!Files.isExecutable(bible)) {
                return null;
            }
            List<String> cmd = new ArrayList<>(List.of(bible.toString()));
            cmd.addAll(List.of(source.substring("command:bible ".length()).split(" ")));
            Run r = run(cmd, 120, false); // COLUMNS unset: bible wraps at its default width, as the script's text did
            return r.rc == 0 ? r.bytes : null;
        }
        if (source.startsWith("resource:")) {
            try (InputStream in = GptReferenceScriptTest.class.getResourceAsStream(source.substring("resource:".length()))) {
                return in == null ? null : in.readAllBytes();
            }
        }
        return null;
    }

    private static List<String> names(SafeTensors.Contents c) {
        return c.tensors().stream().map(SafeTensors.Tensor::name).toList();
    }

    private record Run(int rc, String out, byte[] bytes) {}

    private static Run run(List<String> cmd, int seconds) {
        return run(cmd, seconds, true);
    }

    /** Runs a command with stdin closed and COLUMNS unset; stdout, and stderr with it when {@code merge}. */
    private static Run run(List<String> cmd, int seconds, boolean merge) {
        try {
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(merge);
            pb.environment().remove("COLUMNS");
            if (!merge) {
                pb.redirectError(ProcessBuilder.Redirect.DISCARD);
            }
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Run(-1, "timed out", out);
            }
            return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), out);
        } catch (IOException e) {
            return new Run(-1, "cannot run " + cmd.get(0) + ": " + e.getMessage(), new byte[0]);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Run(-1, "interrupted", new byte[0]);
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines[lines.length - 1];
    }
}
