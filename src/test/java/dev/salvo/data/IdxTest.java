package dev.salvo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

    @TempDir
    Path dir;

    /** IDX bytes for {@code values} stored as {@code type}. */
    static byte[] encode(int type, int[] dims, double[] values) {
        int size = Idx.elementSize(type);
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + size * values.length).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        for (double v : values) {
            switch (type) {
                case Idx.UBYTE, Idx.BYTE -> b.put((byte) (long) v);
                case Idx.SHORT -> b.putShort((short) (long) v);
                case Idx.INT -> b.putInt((int) (long) v);
                case Idx.FLOAT -> b.putFloat((float) v);
                case Idx.DOUBLE -> b.putDouble(v);
                default -> throw new IllegalArgumentException();
            }
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
                g.write(data);
            }
            return bo.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Asserts a DataFormatException whose message is {@code <file>: <location>: ...} with location containing {@code where}. */
    static DataFormatException assertBad(Path file, String where, Runnable r) {
        DataFormatException e = assertThrows(DataFormatException.class, r::run);
        assertEquals(file.toString(), e.file());
        assertTrue(e.getMessage().startsWith(file + ": " + e.location() + ": "), e.getMessage());
        assertTrue(e.location().contains(where), "location '" + e.location() + "' should contain '" + where + "': "
                + e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e;
    }

    @Test
    void everyElementTypeRoundTripsPlainAndGzip() throws IOException {
        int[] dims = {2, 3, 4};
        double[] v = new double[24];
        Object[][] cases = {
            {Idx.UBYTE, new double[] {0, 1, 127, 128, 200, 255}},
            {Idx.BYTE, new double[] {-128, -1, 0, 1, 100, 127}},
            {Idx.SHORT, new double[] {-32768, -300, 0, 1, 300, 32767}},
            {Idx.INT, new double[] {-16777216, -70000, 0, 1, 70000, 16777216}},
            {Idx.FLOAT, new double[] {-1.5, 0.25, 0, 3.4e38, -1e-30, 7}},
            {Idx.DOUBLE, new double[] {-1.5, 0.1, 0, 1e30, -2.5e-7, 7}},
        };
        for (Object[] c : cases) {
            int type = (Integer) c[0];
            double[] pool = (double[]) c[1];
            for (int i = 0; i < v.length; i++) {
                v[i] = pool[i % pool.length];
            }
            byte[] bytes = encode(type, dims, v);
            for (boolean gz : new boolean[] {false, true}) {
                Path p = write("t" + type + (gz ? ".gz" : ""), gz ? gzip(bytes) : bytes);
                Idx.Tensor t = Idx.read(p);
                assertEquals(type, t.type());
                assertEquals(gz, t.gzip());
                assertArrayEquals(dims, t.dims());
                float[] want = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    want[i] = (float) v[i];
                }
                assertArrayEquals(want, t.values(), Idx.typeName(type) + (gz ? " gzip" : " plain"));
            }
        }
    }

    @Test
    void gzipIsDetectedByContentNotByName() throws IOException {
        byte[] bytes = encode(Idx.UBYTE, new int[] {3}, new double[] {1, 2, 3});
        Path gzNoSuffix = write("labels-idx1-ubyte", gzip(bytes));
        Path plainWithGz = write("labels-idx1-ubyte.gz", bytes);
        assertArrayEquals(new int[] {1, 2, 3}, Idx.read(gzNoSuffix).asLabels());
        assertArrayEquals(new int[] {1, 2, 3}, Idx.read(plainWithGz).asLabels());
    }

    @Test
    void largeDataCrossesBufferBoundariesForMultiByteTypes() throws IOException {
        int n = 100_003; // odd count so element bytes straddle 64 KiB buffers
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i * 2654435761L % 100000) - 50000;
        }
        for (int type : new int[] {Idx.SHORT, Idx.INT, Idx.DOUBLE}) {
            double[] w = type == Idx.SHORT ? Arrays.stream(v).map(x -> x % 30000).toArray() : v;
            byte[] bytes = encode(type, new int[] {n}, w);
            for (boolean gz : new boolean[] {false, true}) {
                Idx.Tensor t = Idx.read(write("big" + type + gz, gz ? gzip(bytes) : bytes));
                for (int i = 0; i < n; i++) {
                    if (t.values()[i] != (float) w[i]) {
                        throw new AssertionError(Idx.typeName(type) + " gz=" + gz + " element " + i);
                    }
                }
            }
        }
    }

    @Test
    void multiMemberGzipIsOneStream() throws IOException {
        byte[] bytes = encode(Idx.UBYTE, new int[] {4}, new double[] {9, 8, 7, 6});
        byte[] a = gzip(Arrays.copyOfRange(bytes, 0, 6));
        byte[] b = gzip(Arrays.copyOfRange(bytes, 6, bytes.length));
        byte[] both = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        assertArrayEquals(new int[] {9, 8, 7, 6}, Idx.read(write("multi.gz", both)).asLabels());
    }

    @Test
    void wrongMagicNamesBytes0To3() throws IOException {
        byte[] ok = encode(Idx.UBYTE, new int[] {2}, new double[] {1, 2});
        byte[][] bad = new byte[4][];
        for (int i = 0; i < 4; i++) {
            bad[i] = ok.clone();
        }
        bad[0][0] = 1; // nonzero first byte
        bad[1][2] = 0x0A; // unknown type
        bad[2][3] = 0; // zero dims
        bad[3][3] = 9; // too many dims
        for (int i = 0; i < 4; i++) {
            for (boolean gz : new boolean[] {false, true}) {
                Path p = write("magic" + i + gz, gz ? gzip(bad[i]) : bad[i]);
                assertBad(p, "bytes 0..3", () -> Idx.read(p));
            }
        }
        Path tiny = write("tiny", new byte[] {0, 0});
        assertBad(tiny, "bytes 0..3", () -> Idx.read(tiny));
        Path empty = write("empty", new byte[0]);
        assertBad(empty, "bytes 0..3", () -> Idx.read(empty));
    }

    @Test
    void truncatedHeaderAndDataNameTheByte() throws IOException {
        byte[] ok = encode(Idx.SHORT, new int[] {2, 3}, new double[] {1, 2, 3, 4, 5, 6});
        Path header = write("header", Arrays.copyOf(ok, 7));
        assertBad(header, "byte 7", () -> Idx.read(header));
        Path data = write("data", Arrays.copyOf(ok, ok.length - 3));
        DataFormatException e = assertBad(data, "byte " + (ok.length - 3), () -> Idx.read(data));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        Path dataGz = write("data.gz", gzip(Arrays.copyOf(ok, ok.length - 3)));
        assertBad(dataGz, "byte " + (ok.length - 3) + " of the decompressed data", () -> Idx.read(dataGz));
    }

    @Test
    void truncatedOrCorruptGzipNamesTheCompressedByte() throws IOException {
        double[] v = new double[5000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (i * 31) % 251;
        }
        byte[] gz = gzip(encode(Idx.UBYTE, new int[] {5000}, v));
        for (int cut : new int[] {1, 5, 10, 15, gz.length / 2, gz.length - 8, gz.length - 1}) {
            Path p = write("cut" + cut, Arrays.copyOf(gz, cut));
            DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(p));
            assertTrue(e.location().contains("byte"), e.getMessage());
            assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
        }
        byte[] crc = gz.clone();
        crc[gz.length - 6] ^= 1;
        Path pc = write("crc", crc);
        assertTrue(assertBad(pc, "compressed byte " + (gz.length - 8), () -> Idx.read(pc)).getMessage().contains("CRC"));
        byte[] len = gz.clone();
        len[gz.length - 2] ^= 1;
        Path pl = write("len", len);
        assertBad(pl, "compressed byte " + (gz.length - 4), () -> Idx.read(pl));
        byte[] method = gz.clone();
        method[2] = 7;
        Path pm = write("method", method);
        assertBad(pm, "compressed byte 2", () -> Idx.read(pm));
    }

    @Test
    void trailingGarbageIsRejected() throws IOException {
        byte[] ok = encode(Idx.UBYTE, new int[] {3}, new double[] {1, 2, 3});
        byte[] extra = Arrays.copyOf(ok, ok.length + 2);
        Path plain = write("extra", extra);
        assertBad(plain, "byte " + ok.length, () -> Idx.read(plain));
        Path insideGz = write("extra.gz", gzip(extra));
        assertBad(insideGz, "byte " + ok.length + " of the decompressed data", () -> Idx.read(insideGz));
        byte[] gz = gzip(ok);
        byte[] afterGz = Arrays.copyOf(gz, gz.length + 3);
        afterGz[gz.length] = 'x';
        Path after = write("after.gz", afterGz);
        assertBad(after, "compressed byte " + gz.length, () -> Idx.read(after));
    }

    @Test
    void sizesThatDisagreeOrOverflowAreRejected() throws IOException {
        // product overflows 64 bits: 8 dims of 2^31-1
        int[] huge = new int[8];
        Arrays.fill(huge, Integer.MAX_VALUE);
        Path overflow = write("overflow", encode(Idx.UBYTE, huge, new double[0]));
        assertTrue(assertBad(overflow, "byte", () -> Idx.read(overflow)).getMessage().contains("overflow"));
        // negative (>= 2^31 unsigned) dimension
        byte[] neg = encode(Idx.UBYTE, new int[] {1}, new double[] {5});
        neg[4] = (byte) 0x80;
        Path pn = write("neg", neg);
        assertBad(pn, "byte 4", () -> Idx.read(pn));
        // declared size larger than the data
        byte[] more = encode(Idx.INT, new int[] {3}, new double[] {1, 2, 3});
        more[7] = 4;
        Path pm = write("more", more);
        assertBad(pm, "byte " + more.length, () -> Idx.read(pm));
        // declared size smaller than the data
        more[7] = 2;
        Path pl = write("less", more);
        assertBad(pl, "byte 16", () -> Idx.read(pl));
    }

    @Test
    void headerClaimingTwoToThe31ElementsFailsFastWithoutAllocating() throws IOException {
        // 2^31-9 and 2^31 elements (the latter above the array limit), in 100-byte files
        for (int[] dims : new int[][] {{Integer.MAX_VALUE - 8}, {1 << 16, 1 << 15}, {1 << 30, 2}}) {
            byte[] head = encode(Idx.DOUBLE, dims, new double[0]);
            byte[] file = Arrays.copyOf(head, 100);
            for (boolean gz : new boolean[] {false, true}) {
                byte[] bytes = gz ? Arrays.copyOf(gzip(file), 100) : file;
                Path p = write("claim" + dims.length + dims[0] + gz, bytes);
                long t0 = System.nanoTime();
                DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(p));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 2000, "took " + ms + " ms: " + e.getMessage());
            }
        }
        // a gzip file whose bound (1032 x its size) is large but whose data is short: the value
        // array grows with the data instead of being sized from the header
        double[] v = new java.util.Random(1).doubles(1000, 0, 256).map(Math::floor).toArray(); // incompressible
        byte[] ok = encode(Idx.UBYTE, new int[] {1000}, v);
        ByteBuffer.wrap(ok).putInt(4, 1_000_000); // below 1032 x the ~1 KB compressed size
        Path p = write("liar.gz", gzip(ok));
        DataFormatException e = assertBad(p, "of the decompressed data", () -> Idx.read(p));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void asLabelsRejectsNonIntegers() throws IOException {
        Path p = write("f", encode(Idx.FLOAT, new int[] {3}, new double[] {1, 2.5, 3}));
        assertBad(p, "byte 12", () -> Idx.read(p).asLabels());
        Path q = write("i", encode(Idx.BYTE, new int[] {2}, new double[] {1, -1}));
        assertBad(q, "byte 9", () -> Idx.read(q).asLabels());
    }

    @Test
    void missingFileIsAnIoErrorNotAFormatError() {
        Path p = dir.resolve("absent");
        assertThrows(UncheckedIOException.class, () -> Idx.read(p));
    }
}
