package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real child JVM (SIGKILL through {@link Process#destroyForcibly()}) that saves an 8 MB
 * file through {@link AtomicFile} in a loop, at random moments sized from how long the first child
 * took to complete its first save (so a loaded machine gets a longer window), and checks after every kill that
 * the file is absent (nothing saved yet) or one complete generation: every byte matches the
 * pattern of the generation written in it, the generation is at least the last one the child
 * reported saved and at most one more, and generations never go backwards across kills. Stray
 * temporary files (a kill between creating and renaming the temp file) are allowed and counted.
 *
 * <p>This covers process crashes, not power loss: after a SIGKILL the kernel still holds the
 * written pages, so it cannot show that the fsync calls are needed, only that the rename
 * protocol never exposes a partial file.
 */
class AtomicFileKillTest {

    private static final long SEED = Long.getLong("salvo.kill.seed", 20240611L);
    private static final int KILLS = Integer.getInteger("salvo.kill.count", 30);
    /** Kills made even past the time budget. */
    private static final int MIN_KILLS = 10;
    private static final int BASE_SIZE = 8 << 20;
    private static final byte[] MAGIC = "SALVOKT1".getBytes(StandardCharsets.US_ASCII);
    private static final Pattern TEMP = Pattern.compile("\\.model\\.bin\\.[0-9a-f]{12}\\.tmp");

    @TempDir
    Path dir;

    /** The child: saves generation after generation of the pattern until it is killed. */
    public static final class Saver {
        public static void main(String[] args) throws IOException {
            Path target = Path.of(args[0]);
            long gen = 0;
            if (Files.exists(target)) {
                gen = generationOf(Files.readAllBytes(target)) + 1; // continue after the last complete save
            }
            System.out.println("ready " + gen);
            System.out.flush();
            while (true) {
                AtomicFile.write(target, content(gen));
                System.out.println("saved " + gen);
                System.out.flush();
                gen++;
            }
        }
    }

    /** Generation {@code gen}: magic, generation, length, then a pseudo-random pattern seeded by gen. */
    static byte[] content(long gen) {
        int size = BASE_SIZE + (int) (gen % 7) * 4104; // sizes differ, so old length with new bytes shows
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putLong(gen).putInt(size);
        long x = gen * 0x9E3779B97F4A7C15L + 1;
        while (b.remaining() >= 8) {
            x += 0x9E3779B97F4A7C15L; // splitmix64
            long z = x;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            b.putLong(z ^ (z >>> 31));
        }
        while (b.hasRemaining()) {
            b.put((byte) 0x5A);
        }
        return b.array();
    }

    /** The generation of a complete, valid file; {@link IllegalStateException} describing what is wrong otherwise. */
    static long generationOf(byte[] file) {
        if (file.length < 20 || !Arrays.equals(Arrays.copyOf(file, 8), MAGIC)) {
            throw new IllegalStateException("file of " + file.length + " bytes does not start with the magic");
        }
        long gen = ByteBuffer.wrap(file, 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (gen < 0 || gen > 1_000_000) {
            throw new IllegalStateException("implausible generation " + gen);
        }
        byte[] expected = content(gen);
        if (!Arrays.equals(expected, file)) {
            int i = Arrays.mismatch(expected, file);
            throw new IllegalStateException("generation " + gen + ": " + file.length + " bytes, expected " + expected.length
                    + ", first difference at byte " + i);
        }
        return gen;
    }

    private static String classpath() {
        return dev.salvo.Check.childClassPath(AtomicFile.class, Saver.class);
    }

    @Test
    void killedWriterLeavesOldOrNewCompleteFile() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = classpath();
        Path target = dir.resolve("model.bin");
        Random r = new Random(SEED);
        long lastGen = -1; // generation found after the previous kill
        long totalSaves = 0;
        int strays = 0;
        int midSave = 0; // kills after which the file was not the last acknowledged save
        long firstMs = -1; // how long a child takes from "ready" to its first save (JIT and page cache cold)
        long periodMs = -1; // and from one save to the next, once running
        int killsAfterASave = 0; // kills of a child that had reported at least one save
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(120); // a loaded machine gets fewer kills, not hours
        int k = 0;
        for (; k < KILLS && (k < MIN_KILLS || System.nanoTime() < deadline); k++) {
            String where = "seed " + SEED + ", kill " + k;
            Process p = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    "-cp", cp, Saver.class.getName(), target.toString())
                    .redirectErrorStream(true).start();
            AtomicLong acked = new AtomicLong(-1);
            AtomicLong saves = new AtomicLong();
            CountDownLatch ready = new CountDownLatch(1);
            CountDownLatch fourSaves = new CountDownLatch(4);
            AtomicLong readyAt = new AtomicLong();
            AtomicLong firstSaveAt = new AtomicLong();
            List<String> other = new ArrayList<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        if (line.startsWith("saved ")) {
                            acked.set(Long.parseLong(line.substring(6)));
                            if (saves.incrementAndGet() == 1) {
                                firstSaveAt.set(System.nanoTime());
                            }
                            fourSaves.countDown();
                        } else if (line.startsWith("ready ")) {
                            readyAt.set(System.nanoTime());
                            ready.countDown();
                        } else {
                            synchronized (other) {
                                other.add(line);
                            }
                        }
                    }
                } catch (IOException e) {
                    // stream closed by the kill
                }
            });
            reader.start();
            if (!ready.await(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(where + ": child did not start: " + other);
            }
            long delay;
            if (firstMs < 0) {
                // the first child: time its first save and the next three, and size the kill window
                // from them, so the kills land among saves on a loaded machine too (a fixed 20-300 ms
                // window ended before the first save when the machine was busy)
                if (!fourSaves.await(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    fail(where + ": the child completed " + saves.get() + " saves in 120 s: " + other);
                }
                long fourth = System.nanoTime();
                firstMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(firstSaveAt.get() - readyAt.get()));
                periodMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(fourth - firstSaveAt.get()) / 3);
                delay = r.nextInt((int) Math.min(Integer.MAX_VALUE, 2 * periodMs)); // then into a later save
            } else {
                // from half a first save to one and a half plus four later saves: most kills come
                // after the child's first save, some before it or during it
                delay = firstMs / 2 + r.nextInt((int) Math.min(Integer.MAX_VALUE, firstMs + 4 * periodMs));
            }
            Thread.sleep(delay);
            p.destroyForcibly();
            assertTrue(p.waitFor(30, TimeUnit.SECONDS), where + ": child did not die");
            reader.join(120_000); // all it printed before the kill must be read before the file is judged
            assertTrue(!reader.isAlive(), where + ": the child's output was not read to its end in 120 s");
            synchronized (other) {
                if (!other.isEmpty()) {
                    fail(where + ": child wrote " + other);
                }
            }
            totalSaves += saves.get();
            killsAfterASave += saves.get() > 0 ? 1 : 0;
            if (k > 0) { // follow the machine's pace: what this child's first save took, or at least the wait
                long seen = saves.get() > 0 ? TimeUnit.NANOSECONDS.toMillis(firstSaveAt.get() - readyAt.get()) : 5 * delay / 4;
                firstMs = Math.max(1, saves.get() > 0 ? (firstMs + seen) / 2 : Math.max(firstMs, seen));
            }

            if (!Files.exists(target)) {
                assertEquals(-1, lastGen, where + ": the file vanished after generation " + lastGen);
                assertEquals(-1, acked.get(), where + ": generation " + acked.get() + " was reported saved but there is no file");
            } else {
                long gen;
                try {
                    gen = generationOf(Files.readAllBytes(target));
                } catch (IllegalStateException e) {
                    throw new AssertionError(where + " (after " + delay + " ms): torn file: " + e.getMessage(), e);
                }
                assertTrue(gen >= lastGen, where + ": generation went back from " + lastGen + " to " + gen);
                assertTrue(gen >= acked.get(), where + ": generation " + gen + " but " + acked.get() + " was reported saved");
                assertTrue(gen <= Math.max(acked.get(), lastGen) + 1, where + ": generation " + gen + " from the future (last"
                        + " reported saved " + acked.get() + ", " + saves.get() + " saves reported, previous kill left " + lastGen + ")");
                if (gen != acked.get()) {
                    midSave++;
                }
                lastGen = gen;
            }
            try (Stream<Path> s = Files.list(dir)) {
                for (Path q : s.toList()) {
                    String name = q.getFileName().toString();
                    if (!name.equals("model.bin")) {
                        assertTrue(TEMP.matcher(name).matches(), where + ": unexpected file " + name);
                        strays++;
                        Files.delete(q); // readers ignore them; remove so they do not pile up
                    }
                }
            }
        }
        int kills = k;
        System.out.printf("AtomicFileKillTest: seed %d, %d kills in %.1f s (a first save took %d ms, later saves %d ms),"
                + " %d saves reported, last generation %d, %d kills after a save, %d kills left a stray temp file, %d found"
                + " the file at the generation after the last reported save%n", SEED, kills, (System.nanoTime() - t0) / 1e9,
                firstMs, periodMs, totalSaves, lastGen, killsAfterASave, strays, midSave);
        assertNotNull(target);
        assertTrue(totalSaves > 0, "the child never completed a save: the test proved nothing");
        // the kills must land among saves, not before them
        assertTrue(killsAfterASave >= kills / 3, "only " + killsAfterASave + " of " + kills
                + " kills came after the child's first save (a first save took " + firstMs + " ms)");
    }
}
