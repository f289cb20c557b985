package dev.salvo.data;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random-mutation fuzzing of the IDX and CSV readers: valid files (plain and gzip) are
 * mutated (bit flips, random bytes, truncation, insertion, duplicated and deleted ranges, header
 * numbers replaced, CSV tokens spliced in) and read back. The only exception allowed out of a
 * reader is {@link DataFormatException}, with the file at the start of its one-line message; any
 * other exception or Error fails with the seed and the iteration, which reproduce it alone
 * (iteration {@code i} of seed {@code s} uses {@code new Random(s * 1_000_003 + i)}).
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
                    try {
                        if (c.idx()) {
                            Idx.Tensor t = Idx.read(file);
                            if (rnd.nextBoolean()) {
                                t.asLabels();
                            }
                        } else {
                            Csv.Options o = Csv.Options.defaults();
                            if (rnd.nextInt(4) == 0) {
                                o = o.withLabelColumn(rnd.nextBoolean() ? "label" : String.valueOf(rnd.nextInt(5) - 1));
                            }
                            Csv.read(file, o);
                        }
                    } catch (DataFormatException e) {
                        rejected++;
                        String m = e.getMessage();
                        if (!m.startsWith(file + ": ") || m.contains("\n") || e.location() == null || e.location().isEmpty()) {
                            fail(report(c, seed, it, how, bytes, "badly formed message: " + m), e);
                        }
                    } catch (Throwable e) {
                        fail(report(c, seed, it, how, bytes, e.toString()), e);
                    }
                }
            }
        }
        System.out.printf("DataFuzzTest: %d mutated files, %d rejected with DataFormatException, %.1f s%n", runs, rejected,
                (System.nanoTime() - t0) / 1e9);
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
            try {
                StandardDatasets.load("mnist", d);
            } catch (DataFormatException e) {
                rejected++;
            } catch (Throwable e) {
                fail("standard datasets, seed " + seed + ", iteration " + it + " (mutations:" + how + "): " + e, e);
            }
        }
        System.out.println("DataFuzzTest: StandardDatasets rejected " + rejected + " of 1000 mutated label/image pairs");
    }
}
