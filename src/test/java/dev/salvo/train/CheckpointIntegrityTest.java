package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.cli.Main;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints carry a SHA-256 of their bytes: a damaged checkpoint is refused, never resumed from;
 * non-finite parameters or optimizer state are refused naming the array and index; JSON errors are
 * one line naming the file and the field.
 */
class CheckpointIntegrityTest {

    private static Path checkpoint(Path dir) {
        try (Device d = CpuProvider.open(CpuSettings.load())) {
            CheckpointTest.run(d, Optimizer.adam(), dir, 20, null, new ArrayList<>());
        }
        return dir.resolve(Checkpoint.FILE);
    }

    private static void oneLineNaming(IllegalArgumentException e, Path f, String... what) {
        String m = e.getMessage();
        assertEquals(1, m.lines().count(), m);
        assertTrue(m.startsWith(f.toString()), m);
        for (String w : what) {
            assertTrue(m.contains(w), "should say " + w + ": " + m);
        }
    }

    /** Every single changed byte of the file, header, JSON, arrays and checksum alike, is refused. */
    @Test
    void everyChangedByteIsRefused(@TempDir Path dir) throws Exception {
        Path f = checkpoint(dir);
        byte[] good = Files.readAllBytes(f);
        Checkpoint.load(f);
        for (int i = 0; i < good.length; i++) {
            byte[] b = good.clone();
            b[i] ^= (byte) (1 << (i % 8));
            Files.write(f, b);
            int at = i;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f), () -> "byte " + at);
            oneLineNaming(e, f);
        }
        Files.write(f, Arrays.copyOf(good, good.length - 40 + 8)); // the checksum cut off in the middle
        oneLineNaming(assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f)), f);
    }

    @Test
    void aChangedFloatNamesTheChecksum(@TempDir Path dir) throws Exception {
        Path f = checkpoint(dir);
        byte[] b = Files.readAllBytes(f);
        b[b.length - 100] ^= 0x01;
        Files.write(f, b);
        oneLineNaming(assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f)), f, "SHA-256", "damaged");
    }

    @Test
    void nonFiniteParametersOrStateAreRefusedNamingTheArrayAndIndex(@TempDir Path dir) {
        Path f = checkpoint(dir);
        Checkpoint.Snapshot s = Checkpoint.load(f);
        float[] p = s.parameters().clone();
        p[17] = Float.NaN;
        Checkpoint.save(f, with(s, p, s.optimizerState()));
        oneLineNaming(assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f)), f, "parameters", "17", "NaN");
        List<float[]> state = new ArrayList<>(s.optimizerState());
        float[] v = state.get(1).clone();
        v[3] = Float.POSITIVE_INFINITY;
        state.set(1, v);
        Checkpoint.save(f, with(s, s.parameters(), state));
        oneLineNaming(assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f)), f, "optimizer state 1", "3", "Infinity");
    }

    private static Checkpoint.Snapshot with(Checkpoint.Snapshot s, float[] params, List<float[]> state) {
        return new Checkpoint.Snapshot(s.network(), s.seed(), s.batchSize(), s.epoch(), s.stepInEpoch(), s.step(), s.samples(), s.lr(),
                s.lossSum(), s.lossCount(), s.epochSeconds(), s.bestLoss(), s.sinceBest(), s.rngState(), s.order(), s.history(),
                s.epochDevices(), s.info(), params, state, s.best(), s.modelState());
    }

    /** A JSON error is one line naming the file and the field, without Jackson's source excerpt. */
    @Test
    void aJsonErrorIsOneLineNamingTheField(@TempDir Path dir) throws Exception {
        Path f = checkpoint(dir);
        byte[] b = Files.readAllBytes(f);
        int n = ByteBuffer.wrap(b, 8, 4).getInt();
        String json = new String(b, 12, n, StandardCharsets.UTF_8);
        for (String[] change : List.of(new String[] {"\"epoch\":", "\"epoch\":\"one\",\"x\":"},
                new String[] {"\"history\":[", "\"history\":[{\"epoch\":[]},"},
                new String[] {"{", "{,"})) {
            assertTrue(json.contains(change[0]), json);
            byte[] bad = json.replaceFirst(java.util.regex.Pattern.quote(change[0]), change[1]).getBytes(StandardCharsets.UTF_8);
            // rewritten with its checksum, so that the JSON itself is what is wrong
            Checkpoint.writeRaw(f, bad, Arrays.copyOfRange(b, 12 + n, b.length - 40));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoint.load(f));
            oneLineNaming(e, f, change[1].startsWith("{,") ? "JSON" : change[1].contains("history") ? "history[0].epoch" : "epoch");
            assertTrue(!e.getMessage().contains("[Source") && !e.getMessage().contains("line:"), e.getMessage());
        }
    }

    @Test
    void resumeFromADamagedCheckpointIsExit2(@TempDir Path dir) throws Exception {
        Path ck = dir.resolve("ck");
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        assertEquals(0, Main.run(new String[] {"train", "--epochs", "1", "--no-progress", "--out", dir.resolve("a").toString(),
                "--checkpoint-dir", ck.toString()}, new PrintWriter(out, true), new PrintWriter(err, true)), err.toString());
        Path f = ck.resolve(Checkpoint.FILE);
        byte[] b = Files.readAllBytes(f);
        b[b.length / 2] ^= 0x40;
        Files.write(f, b);
        StringWriter err2 = new StringWriter();
        int code = Main.run(new String[] {"train", "--epochs", "2", "--no-progress", "--out", dir.resolve("b").toString(),
                "--resume", ck.toString()}, new PrintWriter(new StringWriter(), true), new PrintWriter(err2, true));
        assertEquals(2, code, err2.toString());
        assertEquals(1, err2.toString().strip().lines().count(), err2.toString());
        assertTrue(err2.toString().contains(f.toString()) && err2.toString().contains("SHA-256"), err2.toString());
    }
}
