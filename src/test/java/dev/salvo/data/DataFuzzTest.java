package dev.salvo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random-mutation fuzzing of the IDX and CSV readers: valid files (plain and gzip) are
 * mutated (bit flips, random bytes, truncation, insertion, duplicated and deleted ranges, header
 * numbers replaced, CSV tokens spliced in) and read back. The only exception allowed out of a
 * reader is {@link DataFormatException}, with the file and a location in its terms (a byte, a line
 * and column) at the start of its one-line message; an IDX mutant whose length disagrees with its
 * header is always rejected; each corpus and mode rejects at least a set share of its mutants and
 * accepts some; and what is accepted reads back sanely (as many values as the dimensions say,
 * finite features, labels in range) and round-trips when written again. Any other exception or
 * Error fails with the seed and the iteration, which reproduce it alone (iteration {@code i} of
 * seed {@code s} uses {@code new Random(s * 1_000_003 + i)}).
 */
class DataFuzzTest {

    static final int ITERATIONS = 1000;

    @TempDir
    Path dir;

    private static final String[] CSV_TOKENS = {",", ";", "\"", "\"\"", "\n", "\r\n", "\r", " ", "NaN", "-Infinity",
        "1e999", "-1", "0.5", "abc", "99999999999", "\uFEFF", "\u00e9", "e", ".", "+", "x,y,label\n", ",,,", "1,2,3\n"};

    private static final int[] HEADER_NUMBERS = {0, 1, -1, 2, 255, 256, 65535, 0x7FFFFFFF, 0x80000000, 0x7FFFFFF7,
        1 << 16, 1 << 24, 60000, 28};

    private record Corpus(String name, byte[] plain, boolean idx) {
    }

    private static List<Corpus> corpora() {
        List<Corpus> c = new ArrayList<>();
        double[] img = new double[4 * 3 * 5];
        for (int i = 0; i < img.length; i++) {
            img[i] = (i * 37) % 256;
        }
        c.add(new Corpus("ubyte-3d", IdxTest.encode(Idx.UBYTE, new int[] {4, 3, 5}, img), true));
        c.add(new Corpus("labels-1d", IdxTest.encode(Idx.UBYTE, new int[] {10}, new double[] {5, 0, 4, 1, 9, 2, 1, 3, 1, 4}), true));
        c.add(new Corpus("int-2d", IdxTest.encode(Idx.INT, new int[] {3, 2}, new double[] {1, -2, 300000, 4, 0, 7}), true));
        c.add(new Corpus("double-1d", IdxTest.encode(Idx.DOUBLE, new int[] {3}, new double[] {0.5, -1e10, 3}), true));
        c.add(new Corpus("short-4d", IdxTest.encode(Idx.SHORT, new int[] {1, 2, 1, 2}, new double[] {-5, 6, 7, 8}), true));
        c.add(new Corpus("csv-header", "sepal,petal,\"na,me\",label\n5.1,3.5,1.4,0\n4.9,3.0,1.4,1\n-1e-3,2,0.2,2\n"
                .getBytes(StandardCharsets.UTF_8), false));
        c.add(new Corpus("csv-plain", "1,2,0\r\n3,4,1\r\n\r\n5,6,2\r\n".getBytes(StandardCharsets.UTF_8), false));
        return c;
    }

    /** IDX locations name a byte ({@code byte 16}, {@code bytes 0..3}, {@code compressed byte 9}, ...). */
    private static final Pattern IDX_LOCATION = Pattern.compile("(compressed )?bytes? [0-9]+(\\.\\.[0-9]+)?( .*)?");
    /** CSV locations name a line, and a column where one cell is at fault; a broken gzip container, its byte. */
    private static final Pattern CSV_LOCATION = Pattern.compile("line [0-9]+(, column [0-9]+)?|compressed byte [0-9]+");

    /**
     * Every rejection is a {@link DataFormatException} whose one-line message starts with the file
     * and a location in the file's own terms (a byte for IDX, a line and column for CSV, the
     * compressed byte for a broken gzip container).
     */
    private static void checkRejection(DataFormatException e, Path file, boolean idx, String where) {
        String m = e.getMessage();
        if (!m.startsWith(file + ": " + e.location() + ": ") || m.contains("\n") || e.location() == null) {
            fail(where + ": badly formed message: " + m, e);
        }
        if (!(idx ? IDX_LOCATION : CSV_LOCATION).matcher(e.location()).matches()) {
            fail(where + ": the location '" + e.location() + "' names no " + (idx ? "byte" : "line") + ": " + m, e);
        }
        if (!String.valueOf(file).equals(e.file())) {
            fail(where + ": names " + e.file() + ", not the file read", e);
        }
    }

    /**
     * An accepted IDX file reads back as what it says: as many values as its dimensions multiply
     * to, a plain file exactly as long as its header and data, and the tensor written again in the
     * same type reads back equal, value for value.
     */
    private void checkAcceptedIdx(Idx.Tensor t, Path file, byte[] bytes, String where) throws IOException {
        long count = 1;
        for (int d : t.dims()) {
            assertTrue(d >= 0, where + ": negative dimension in " + Arrays.toString(t.dims()));
            count *= d;
        }
        assertEquals(count, t.values().length, where + ": " + Arrays.toString(t.dims()) + " but " + t.values().length + " values");
        if (!t.gzip()) {
            assertEquals(t.headerBytes() + count * Idx.elementSize(t.type()), bytes.length, where + ": file length");
        }
        double[] v = new double[t.values().length];
        for (int i = 0; i < v.length; i++) {
            v[i] = t.values()[i];
        }
        Path again = file.resolveSibling("roundtrip.idx");
        Files.write(again, IdxTest.encode(t.type(), t.dims(), v));
        Idx.Tensor u = Idx.read(again);
        assertEquals(t.type(), u.type(), where);
        assertArrayEquals(t.dims(), u.dims(), where);
        for (int i = 0; i < v.length; i++) {
            if (Float.compare(t.values()[i], u.values()[i]) != 0) {
                fail(where + ": value " + i + " was " + t.values()[i] + ", written and read again " + u.values()[i]);
            }
        }
    }

    /**
     * An accepted CSV is a sane data set (rows of the same width, finite features, labels in
     * [0, classes)) that, written out again as plain CSV with the label last, reads back the same.
     */
    private void checkAcceptedCsv(Dataset d, Path file, String where) throws IOException {
        assertTrue(d.rows() > 0 && d.width() > 0, where + ": " + d);
        assertEquals((long) d.rows() * d.width(), d.features().length, where);
        assertEquals(d.rows(), d.labels().length, where);
        StringBuilder b = new StringBuilder();
        for (int r = 0; r < d.rows(); r++) {
            for (int c = 0; c < d.width(); c++) {
                float x = d.features()[r * d.width() + c];
                assertTrue(Float.isFinite(x), where + ": feature " + x + " at row " + r);
                b.append(x).append(',');
            }
            int y = d.labels()[r];
            assertTrue(y >= 0 && y < d.classes(), where + ": label " + y + " of " + d.classes() + " classes");
            b.append(y).append('\n');
        }
        Path again = file.resolveSibling("roundtrip.csv");
        Files.writeString(again, b.toString(), StandardCharsets.UTF_8);
        Dataset e = Csv.read(again, Csv.Options.defaults().withHeader(false));
        assertEquals(d.rows(), e.rows(), where);
        assertEquals(d.width(), e.width(), where);
        assertArrayEquals(d.features(), e.features(), where);
        assertArrayEquals(d.labels(), e.labels(), where);
    }

    @Test
    void idxAndCsvReadersThrowOnlyDataFormatException() throws IOException {
        long t0 = System.nanoTime();
        List<Corpus> all = corpora();
        long runs = 0;
        long rejected = 0;
        for (int ci = 0; ci < all.size(); ci++) {
            Corpus c = all.get(ci);
            for (int mode = 0; mode < 3; mode++) { // 0 plain, 1 gzip of mutated plain, 2 mutated gzip bytes
                long seed = 1000L * (ci + 1) + mode;
                Path file = dir.resolve(c.name() + "-" + mode + (mode == 0 ? "" : ".gz"));
                int rejectedHere = 0;
                int lengthChanged = 0; // IDX mutants whose (decompressed) length changed and header did not
                int lengthChangedRejected = 0;

                for (int it = 0; it < ITERATIONS; it++) {
                    Random rnd = new Random(seed * 1_000_003 + it);
                    byte[] bytes;
                    StringBuilder how = new StringBuilder();
                    if (mode == 2) {
                        bytes = mutate(IdxTest.gzip(c.plain()), rnd, false, how);
                    } else {
                        bytes = mutate(c.plain(), rnd, c.idx(), how);
                        if (mode == 1) {
                            bytes = IdxTest.gzip(bytes);
                        }
                    }
                    Files.write(file, bytes);
                    runs++;
                    // a mutant of an IDX file whose length no longer matches its (unchanged) header
                    // cannot be a valid file: every one of them must be rejected
                    boolean mustReject = c.idx() && mode != 2 && lengthDisagreesWithHeader(c.plain(),
                            mode == 0 ? bytes : gunzip(bytes));
                    lengthChanged += mustReject ? 1 : 0;
                    String where = report(c, seed, it, how, bytes, "") + "\n=> ";
                    try {
                        if (c.idx()) {
                            Idx.Tensor t = Idx.read(file);
                            if (rnd.nextBoolean()) {
                                t.asLabels();
                            }
                            checkAcceptedIdx(t, file, bytes, where);
                        } else {
                            Csv.Options o = Csv.Options.defaults();
                            if (rnd.nextInt(4) == 0) {
                                o = o.withLabelColumn(rnd.nextBoolean() ? "label" : String.valueOf(rnd.nextInt(5) - 1));
                            }
                            checkAcceptedCsv(Csv.read(file, o), file, where);
                        }
                        if (mustReject) {
                            fail(where + "accepted, but its length disagrees with its header");
                        }
                    } catch (DataFormatException e) {
                        rejected++;
                        rejectedHere++;
                        lengthChangedRejected += mustReject ? 1 : 0;
                        checkRejection(e, file, c.idx(), where);
                    } catch (AssertionError e) {
                        throw e;
                    } catch (Throwable e) {
                        fail(report(c, seed, it, how, bytes, e.toString()), e);
                    }
                }
                double share = rejectedHere / (double) ITERATIONS;
                System.out.printf("DataFuzzTest: %-10s mode %d: %4d of %d rejected%s%n", c.name(), mode, rejectedHere, ITERATIONS,
                        c.idx() && mode != 2 ? ", " + lengthChangedRejected + " of " + lengthChanged + " whose length changed" : "");
                // the mutations must exercise both paths: some mutants read, many are refused
                String what = c.name() + " mode " + mode + ": " + rejectedHere + " of " + ITERATIONS + " rejected";
                assertTrue(share >= MIN_REJECTED[c.idx() ? 0 : 1][mode], what + ", fewer than expected");
                assertTrue(rejectedHere < ITERATIONS, what + ": nothing was accepted, so the round trip was not exercised");
                assertEquals(lengthChanged, lengthChangedRejected, what);
            }
        }
        System.out.printf("DataFuzzTest: %d mutated files, %d rejected with DataFormatException, %.1f s%n", runs, rejected,
                (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The least share of mutants rejected, for IDX and CSV corpora and each mode (plain, gzip of a
     * mutated plain file, mutated gzip bytes). Measured with these seeds: IDX 90-98% plain and
     * gzip of plain, 98-99.5% of mutated gzip bytes (a corrupted stream fails its CRC); CSV 87-90%
     * and 99% (it is forgiving by design: a flipped digit is still a number). The floors leave
     * room for a reader that accepts a little more, not for one that stops checking.
     */
    private static final double[][] MIN_REJECTED = {{0.8, 0.8, 0.95}, {0.7, 0.7, 0.95}};

    /** The decompressed data of a gzip file this test made (never corrupt). */
    private static byte[] gunzip(byte[] gz) throws IOException {
        try (var in = new java.util.zip.GZIPInputStream(new java.io.ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    /**
     * True when {@code mutant} kept {@code original}'s IDX header (magic and dimensions, byte for
     * byte) but not its length: such a file cannot be valid.
     */
    private static boolean lengthDisagreesWithHeader(byte[] original, byte[] mutant) {
        int header = 4 + 4 * (original[3] & 0xFF);
        return mutant.length != original.length && mutant.length >= header
                && Arrays.equals(original, 0, header, mutant, 0, header);
    }

    /**
     * Every strict truncation of an IDX file, plain or gzip, is rejected (the header says how long
     * the data is), and so is one byte too many, each naming the file and a byte.
     */
    @Test
    void everyTruncatedOrExtendedIdxFileIsRejectedNamingTheByte() throws IOException {
        int checked = 0;
        for (Corpus c : corpora()) {
            if (!c.idx()) {
                continue;
            }
            byte[] gz = IdxTest.gzip(c.plain());
            List<byte[]> bad = new ArrayList<>();
            List<String> how = new ArrayList<>();
            for (int len = 0; len < c.plain().length; len++) {
                bad.add(Arrays.copyOf(c.plain(), len));
                how.add("plain truncated to " + len);
                bad.add(IdxTest.gzip(Arrays.copyOf(c.plain(), len)));
                how.add("gzip of plain truncated to " + len);
            }
            for (int len = 0; len < gz.length; len++) {
                bad.add(Arrays.copyOf(gz, len));
                how.add("gzip truncated to " + len);
            }
            bad.add(Arrays.copyOf(c.plain(), c.plain().length + 1));
            how.add("plain plus one byte");
            bad.add(IdxTest.gzip(Arrays.copyOf(c.plain(), c.plain().length + 1)));
            how.add("gzip of plain plus one byte");
            for (int i = 0; i < bad.size(); i++) {
                Path file = dir.resolve(c.name() + "-cut" + (how.get(i).startsWith("plain") ? "" : ".gz"));
                Files.write(file, bad.get(i));
                String where = c.name() + ", " + how.get(i);
                DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file), where);
                checkRejection(e, file, true, where);
                checked++;
            }
        }
        System.out.println("DataFuzzTest: " + checked + " truncated or extended IDX files, all rejected");
    }

    private static String report(Corpus c, long seed, int it, StringBuilder how, byte[] bytes, String what) {
        String hex = HexFormat.of().formatHex(bytes, 0, Math.min(bytes.length, 200));
        return "corpus " + c.name() + ", seed " + seed + ", iteration " + it + " (mutations:" + how + "): " + what
                + "\ninput (" + bytes.length + " bytes): " + hex;
    }

    /** One to three random mutations of {@code in}. */
    static byte[] mutate(byte[] in, Random rnd, boolean idxHeader, StringBuilder how) {
        byte[] b = in.clone();
        int count = 1 + rnd.nextInt(3);
        for (int k = 0; k < count; k++) {
            int op = rnd.nextInt(8);
            int n = b.length;
            switch (op) {
                case 0 -> { // flip one bit
                    if (n > 0) {
                        int i = rnd.nextInt(n);
                        b[i] ^= (byte) (1 << rnd.nextInt(8));
                        how.append(" flip@").append(i);
                    }
                }
                case 1 -> { // random byte
                    if (n > 0) {
                        int i = rnd.nextInt(n);
                        b[i] = (byte) rnd.nextInt(256);
                        how.append(" set@").append(i);
                    }
                }
                case 2 -> { // truncate
                    int len = n == 0 ? 0 : rnd.nextInt(n);
                    b = Arrays.copyOf(b, len);
                    how.append(" truncate:").append(len);
                }
                case 3 -> { // insert random bytes
                    int at = rnd.nextInt(n + 1);
                    byte[] ins = new byte[1 + rnd.nextInt(8)];
                    rnd.nextBytes(ins);
                    b = splice(b, at, at, ins);
                    how.append(" insert@").append(at).append('+').append(ins.length);
                }
                case 4 -> { // duplicate a range
                    if (n > 0) {
                        int from = rnd.nextInt(n);
                        int to = from + 1 + rnd.nextInt(Math.min(32, n - from));
                        int at = rnd.nextInt(n + 1);
                        b = splice(b, at, at, Arrays.copyOfRange(b, from, to));
                        how.append(" dup[").append(from).append(',').append(to).append(")@").append(at);
                    }
                }
                case 5 -> { // delete a range
                    if (n > 0) {
                        int from = rnd.nextInt(n);
                        int to = from + 1 + rnd.nextInt(Math.min(16, n - from));
                        b = splice(b, from, to, new byte[0]);
                        how.append(" del[").append(from).append(',').append(to).append(')');
                    }
                }
                default -> {
                    if (idxHeader) { // replace a header number (magic or a dimension)
                        int ndims = n >= 4 ? Math.min(b[3] & 0xFF, 8) : 0;
                        int slot = rnd.nextInt(ndims + 1);
                        if (n >= 4 * slot + 4) {
                            int v = rnd.nextBoolean() ? HEADER_NUMBERS[rnd.nextInt(HEADER_NUMBERS.length)]
                                    : ByteBuffer.wrap(b).getInt(4 * slot) + rnd.nextInt(5) - 2;
                            if (slot == 0) {
                                v = (v & 0xFFFF) | (rnd.nextInt(4) == 0 ? rnd.nextInt() & 0xFFFF0000 : 0);
                            }
                            ByteBuffer.wrap(b).putInt(4 * slot, v);
                            how.append(" header[").append(slot).append("]=").append(Integer.toHexString(v));
                        }
                    } else { // splice a CSV token
                        byte[] tok = CSV_TOKENS[rnd.nextInt(CSV_TOKENS.length)].getBytes(StandardCharsets.UTF_8);
                        int at = rnd.nextInt(n + 1);
                        int to = rnd.nextBoolean() ? at : Math.min(n, at + rnd.nextInt(4));
                        b = splice(b, at, to, tok);
                        how.append(" token@").append(at);
                    }
                }
            }
        }
        return b;
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] ins) {
        byte[] out = new byte[b.length - (to - from) + ins.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(ins, 0, out, from, ins.length);
        System.arraycopy(b, to, out, from + ins.length, b.length - to);
        return out;
    }

    /** Mutations of a tiny Fashion-MNIST-like directory through {@link StandardDatasets#load}. */
    @Test
    void standardDatasetsThrowOnlyDataFormatException() throws IOException {
        Path d = dir.resolve("set");
        Files.createDirectories(d);
        byte[] img = IdxTest.encode(Idx.UBYTE, new int[] {3, 2, 2}, new double[12]);
        byte[] lab = IdxTest.encode(Idx.UBYTE, new int[] {3}, new double[] {1, 2, 3});
        Files.write(d.resolve("t10k-images-idx3-ubyte"), img);
        Files.write(d.resolve("t10k-labels-idx1-ubyte"), lab);
        long seed = 77;
        int rejected = 0;
        for (int it = 0; it < 1000; it++) {
            Random rnd = new Random(seed * 1_000_003 + it);
            StringBuilder how = new StringBuilder();
            byte[] mi = rnd.nextBoolean() ? mutate(img, rnd, true, how) : img;
            byte[] ml = mutate(lab, rnd, true, how);
            Files.write(d.resolve("train-images-idx3-ubyte"), mi);
            Files.write(d.resolve("train-labels-idx1-ubyte"), ml);
            String where = "standard datasets, seed " + seed + ", iteration " + it + " (mutations:" + how + ")";
            try {
                Dataset.Split s = StandardDatasets.load("mnist", d);
                // accepted: the training set is what the (possibly mutated) files hold, labels in range
                Dataset train = s.first();
                assertEquals(Idx.read(d.resolve("train-labels-idx1-ubyte")).size(), train.rows(), where);
                assertEquals(4, train.width(), where);
                for (int y : train.labels()) {
                    assertTrue(y >= 0 && y < train.classes(), where + ": label " + y);
                }
            } catch (DataFormatException e) {
                rejected++;
                String f = e.file();
                if (!f.endsWith("train-images-idx3-ubyte") && !f.endsWith("train-labels-idx1-ubyte")) {
                    fail(where + ": names " + f + ", not a mutated file: " + e.getMessage(), e);
                }
                checkRejection(e, Path.of(f), true, where);
            } catch (AssertionError e) {
                throw e;
            } catch (Throwable e) {
                fail(where + ": " + e, e);
            }
        }
        System.out.println("DataFuzzTest: StandardDatasets rejected " + rejected + " of 1000 mutated label/image pairs");
        // every pair has a mutated label file; most mutations of a 3-label file break it
        assertTrue(rejected >= 500 && rejected < 1000, rejected + " of 1000 mutated pairs rejected");
    }
}
