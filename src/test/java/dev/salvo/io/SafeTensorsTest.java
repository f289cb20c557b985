package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.io.SafeTensors.Contents;
import dev.salvo.io.SafeTensors.Tensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------ helpers

    static byte[] le64(long v) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array();
    }

    static byte[] f32(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) {
            b.putFloat(x);
        }
        return b.array();
    }

    static byte[] f64(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) {
            b.putDouble(x);
        }
        return b.array();
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** A file with this exact header text (unpadded) and data. */
    Path raw(String json, byte[] data) throws IOException {
        byte[] h = json.getBytes(StandardCharsets.UTF_8);
        return bytes(concat(le64(h.length), h, data));
    }

    private int counter;

    Path bytes(byte[] content) throws IOException {
        Path f = dir.resolve("bad" + (counter++) + ".safetensors");
        Files.write(f, content);
        return f;
    }

    /** Reads {@code f}, expecting a SafeTensorsException at {@code location} whose problem contains {@code problem}. */
    static SafeTensorsException bad(Path f, String location, String problem) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.read(f));
        String msg = e.getMessage();
        assertTrue(msg.startsWith(f + ": "), msg);
        assertEquals(location, e.location(), msg);
        assertTrue(msg.startsWith(f + ": " + location + ": "), msg);
        assertTrue(e.problem().contains(problem), "expected '" + problem + "' in: " + msg);
        assertEquals(f.toString(), e.file());
        assertTrue(!msg.contains("\n"), msg);
        return e;
    }

    static String entry(String name, String dtype, String shape, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":[" + begin + "," + end + "]}";
    }

    // ------------------------------------------------------------ good files

    @Test
    void roundTripWithMetadataAndZeroSizeTensors() {
        Path f = dir.resolve("m.safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        meta.put("spec", "{\"layers\": [\"dense 3\"]}");
        meta.put("ünïcødé ✓", "värde \n with newline");
        float[] w = new float[200_000];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i) * 1e3f;
        }
        w[5] = Float.NaN;
        w[6] = Float.NEGATIVE_INFINITY;
        w[7] = -0.0f;
        w[8] = Float.MIN_VALUE;
        List<Tensor> tensors = List.of(
                new Tensor("layers.0.weight", new int[] {400, 500}, w),
                new Tensor("empty", new int[] {0}, new float[0]),
                new Tensor("layers.0.bias", new int[] {3}, new float[] {1, -2, 3.5f}),
                new Tensor("empty2d", new int[] {3, 0}, new float[0]),
                new Tensor("scalar", new int[] {}, new float[] {42}),
                new Tensor("empty.last", new int[] {0, 7}, new float[0]));
        SafeTensors.write(f, meta, tensors);
        Contents c = SafeTensors.read(f);
        assertEquals(meta, c.metadata());
        assertEquals(List.copyOf(meta.keySet()), List.copyOf(c.metadata().keySet()));
        assertEquals(tensors, c.tensors()); // same order, contents compared element by element
        assertArrayEquals(new int[] {400, 500}, c.get("layers.0.weight").shape());
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(c.get("layers.0.weight").data()[7]));
        assertArrayEquals(new int[] {3, 0}, c.get("empty2d").shape());
        assertThrows(IllegalArgumentException.class, () -> c.get("nope"));
    }

    @Test
    void emptyFileAndNoMetadata() {
        Path f = dir.resolve("e.safetensors");
        SafeTensors.write(f, null, List.of());
        Contents c = SafeTensors.read(f);
        assertTrue(c.metadata().isEmpty());
        assertTrue(c.tensors().isEmpty());
        assertEquals(16, f.toFile().length()); // length + "{}" padded to 8
    }

    @Test
    void exactBytes() throws IOException {
        Path f = dir.resolve("tiny.safetensors");
        SafeTensors.write(f, Map.of("k", "v"), List.of(new Tensor("a", new int[] {2}, new float[] {1.0f, -2.0f})));
        String json = "{\"__metadata__\":{\"k\":\"v\"},\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}";
        assertEquals(79, json.length());
        byte[] expected = concat(
                HexFormat.of().parseHex("5000000000000000"), // 80, little-endian u64
                json.getBytes(StandardCharsets.UTF_8),
                " ".getBytes(StandardCharsets.UTF_8), // padding to a multiple of 8
                HexFormat.of().parseHex("0000803f000000c0")); // 1.0f, -2.0f little-endian
        assertArrayEquals(expected, Files.readAllBytes(f));
    }

    @Test
    void headerIsAlwaysPaddedToEight() throws IOException {
        for (int len = 1; len <= 9; len++) {
            Path f = dir.resolve("p" + len);
            SafeTensors.write(f, Map.of(), List.of(new Tensor("x".repeat(len), new int[] {1}, new float[] {len})));
            byte[] b = Files.readAllBytes(f);
            long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(0, n % 8);
            assertEquals(8 + n + 4, b.length);
            assertEquals(len, SafeTensors.read(f).get("x".repeat(len)).data()[0]);
        }
    }

    @Test
    void readsF64AndUnpaddedHeadersAndOtherWritersOrder() throws IOException {
        // tensors listed in the header out of offset order, no padding, whitespace, extra keys
        String json = "{ " + entry("b", "F32", "[1]", 16, 20) + ", "
                + "\"__metadata__\": {\"who\": \"python\"}, "
                + "\"a\":{\"shape\":[2],\"extra\":[1,{}],\"dtype\":\"F64\",\"data_offsets\":[0,16]} }";
        Path f = raw(json, concat(f64(0.1, -1e300), f32(7f)));
        Contents c = SafeTensors.read(f);
        assertEquals(Map.of("who", "python"), c.metadata());
        assertEquals(List.of("a", "b"), c.tensors().stream().map(Tensor::name).toList()); // file (offset) order
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY}, c.get("a").data());
        assertArrayEquals(new float[] {7f}, c.get("b").data());
    }

    @Test
    void writerRejectsBadInput() {
        Path f = dir.resolve("w");
        Tensor t = new Tensor("a", new int[] {1}, new float[1]);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.write(f, Map.of(), List.of(t, t)));
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(f, Map.of(), List.of(new Tensor("__metadata__", new int[] {1}, new float[1]))));
        assertThrows(IllegalArgumentException.class,
                () -> SafeTensors.write(f, Map.of("k", "\uD800"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> new Tensor("a", new int[] {2, 2}, new float[3]));
        assertThrows(IllegalArgumentException.class, () -> new Tensor("a", new int[] {-1}, new float[0]));
        assertThrows(IllegalArgumentException.class,
                () -> new Tensor("a", new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE}, new float[1]));
        new Tensor("a", new int[] {Integer.MAX_VALUE, Integer.MAX_VALUE, 0}, new float[0]);
        assertTrue(!Files.exists(f));
    }

    @Test
    void fileSystemErrorsAreNotFormatErrors() {
        assertThrows(UncheckedIOException.class, () -> SafeTensors.read(dir.resolve("missing")));
        assertThrows(UncheckedIOException.class,
                () -> SafeTensors.write(dir.resolve("no/dir/x"), Map.of(), List.of()));
    }

    // ------------------------------------------------------------ malformed files

    @Test
    void tooShort() throws IOException {
        bad(bytes(new byte[0]), "byte 0", "0 bytes, too short");
        bad(bytes(new byte[7]), "byte 0", "7 bytes, too short");
    }

    @Test
    void headerLengthBeyondFileOrLimit() throws IOException {
        bad(bytes(concat(le64(3), "{}".getBytes(StandardCharsets.UTF_8))), "byte 0", "header length 3 exceeds the file: only 2 bytes");
        bad(bytes(concat(le64(1L << 40), "{}".getBytes(StandardCharsets.UTF_8))), "byte 0", "larger than the limit of 100000000");
        bad(bytes(concat(le64(-1), "{}".getBytes(StandardCharsets.UTF_8))), "byte 0", "header length 18446744073709551615 is larger");
        bad(bytes(le64(0)), "byte 8", "header is empty");
    }

    @Test
    void headerOverLimitIsRejectedBeforeReadingIt() throws IOException {
        // a sparse file big enough to hold the claimed header: only the limit can reject it
        Path f = dir.resolve("huge-header");
        try (RandomAccessFile r = new RandomAccessFile(f.toFile(), "rw")) {
            r.write(le64(SafeTensors.MAX_HEADER_BYTES + 1));
            r.setLength(8 + SafeTensors.MAX_HEADER_BYTES + 16);
        }
        bad(f, "byte 0", "header length 100000001 is larger than the limit");
    }

    @Test
    void headerNotUtf8() throws IOException {
        byte[] h = "{\"__metadata__\":{\"k\":\"v?\"}}".getBytes(StandardCharsets.UTF_8);
        h[24] = (byte) 0xFF;
        bad(bytes(concat(le64(h.length), h)), "byte 32", "not valid UTF-8");
        byte[] truncated = {'{', '"', (byte) 0xE2, (byte) 0x82};
        bad(bytes(concat(le64(4), truncated)), "byte 10", "not valid UTF-8");
        byte[] overlong = {'{', '"', (byte) 0xC0, (byte) 0xAF, '"', ':', '1', '}'};
        bad(bytes(concat(le64(8), overlong)), "byte 10", "not valid UTF-8");
    }

    @Test
    void headerNotJsonObject() throws IOException {
        bad(raw("{\"a\": {", new byte[0]), "byte 15", "not valid JSON");
        bad(raw("{\"a\" 1}", new byte[0]), "byte 13", "not valid JSON");
        bad(raw("[1, 2]", new byte[0]), "byte 8", "header is an array [1,2], expected a JSON object");
        bad(raw("\"x\"", new byte[0]), "byte 8", "expected a JSON object");
        bad(raw("null", new byte[0]), "byte 8", "expected a JSON object");
        bad(raw("        ", new byte[0]), "byte 8", "header is blank");
        bad(raw("{} {}", new byte[0]), "byte 11", "not valid JSON");
        bad(raw("{}\0\0", new byte[0]), "byte 11", "not valid JSON");
        bad(raw("{/*c*/}", new byte[0]), "byte 9", "not valid JSON");
        bad(raw("{\"é\":NaN}", new byte[0]), "byte 17", "not valid JSON");
        // nesting limit, no stack overflow; Jackson gives no position for constraint violations
        bad(raw("[".repeat(10_000), new byte[0]), "byte 8", "nesting depth (129) exceeds the maximum allowed (128");
    }

    @Test
    void duplicateKeys() throws IOException {
        String e = entry("a", "F32", "[1]", 0, 4);
        // Jackson reports the position just after the offending token: here the end of the second key "a"
        bad(raw("{" + e + "," + e.replace("[0,4]", "[4,8]") + "}", new byte[8]), "byte 65", "Duplicate field 'a'");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]),
                "byte 35", "Duplicate field 'dtype'");
        bad(raw("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", new byte[0]), "byte 36", "Duplicate field 'k'");
    }

    @Test
    void entryFieldsMissingOrMistyped() throws IOException {
        byte[] d = new byte[4];
        bad(raw("{\"a\":[1]}", d), "tensor a", "expected an object with dtype, shape and data_offsets, got an array [1]");
        bad(raw("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", d), "tensor a", "missing dtype");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", d), "tensor a", "missing shape");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", d), "tensor a", "missing data_offsets");
        bad(raw("{\"a\":{\"dtype\":32,\"shape\":[1],\"data_offsets\":[0,4]}}", d), "tensor a", "dtype must be a string, got an integer 32");
        bad(raw("{" + entry("a", "F32", "\"1\"", 0, 4) + "}", d), "tensor a", "shape must be an array of integers, got a string");
        bad(raw("{" + entry("a", "F32", "{}", 0, 4) + "}", d), "tensor a", "shape must be an array");
        bad(raw("{" + entry("a", "F32", "[1.0]", 0, 4) + "}", d), "tensor a", "shape[0] must be a non-negative integer, got a number 1.0");
        bad(raw("{" + entry("a", "F32", "[1,\"2\"]", 0, 4) + "}", d), "tensor a", "shape[1] must be a non-negative integer");
        bad(raw("{" + entry("a", "F32", "[null]", 0, 4) + "}", d), "tensor a", "shape[0] must be a non-negative integer, got null");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":\"0-4\"}}", d), "tensor a", "data_offsets must be [begin, end]");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}", d), "tensor a", "data_offsets must be [begin, end]");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", d), "tensor a", "data_offsets must be [begin, end]");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.0]}}", d), "tensor a", "data_offsets[1] must be a non-negative integer");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", d), "tensor a", "data_offsets[0] is negative (-4)");
        bad(raw("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,99999999999999999999999]}}", d),
                "tensor a", "data_offsets[1] = 99999999999999999999999 is out of range");
    }

    @Test
    void unsupportedDtypes() throws IOException {
        for (String dt : List.of("F16", "BF16", "I64", "U8", "BOOL", "I32")) {
            bad(raw("{" + entry("layers.0.weight", dt, "[2]", 0, 4) + "}", new byte[4]),
                    "tensor layers.0.weight", "dtype " + dt + " is not supported: only F32 and F64 can be read");
        }
        bad(raw("{" + entry("w", "F33", "[1]", 0, 4) + "}", new byte[4]), "tensor w", "unknown dtype a string \"F33\"");
        bad(raw("{" + entry("w", "f32", "[1]", 0, 4) + "}", new byte[4]), "tensor w", "unknown dtype");
    }

    @Test
    void badShapes() throws IOException {
        bad(raw("{" + entry("a", "F32", "[-1]", 0, 4) + "}", new byte[4]), "tensor a", "shape[0] is negative (-1)");
        bad(raw("{" + entry("a", "F32", "[2147483648]", 0, 4) + "}", new byte[4]), "tensor a", "shape[0] = 2147483648 is larger than 2147483647");
        bad(raw("{" + entry("a", "F32", "[2147483647,2147483647,2147483647]", 0, 4) + "}", new byte[4]),
                "tensor a", "has more elements than fit in 64 bits");
        // product fits in 64 bits but not in bytes: the byte length check catches it
        bad(raw("{" + entry("a", "F32", "[2147483647,2147483647,2]", 0, 4) + "}", new byte[4]),
                "tensor a", "hold 4 bytes but shape [2147483647, 2147483647, 2] of F32 needs more than 2^63");
        // zero anywhere makes an empty tensor even with overflowing factors
        Contents c = SafeTensors.read(raw("{" + entry("a", "F32", "[2147483647,2147483647,2147483647,0]", 0, 0) + "}", new byte[0]));
        assertEquals(0, c.get("a").data().length);
    }

    @Test
    void badOffsets() throws IOException {
        bad(raw("{" + entry("a", "F32", "[0]", 4, 0) + "}", new byte[4]), "tensor a", "data_offsets [4, 0]: begin is after end");
        bad(raw("{" + entry("a", "F32", "[2]", 0, 8) + "}", new byte[4]), "tensor a", "data_offsets [0, 8] run past the end of the data section (4 bytes)");
        bad(raw("{" + entry("a", "F32", "[2]", 0, 4) + "}", new byte[4]), "tensor a", "data_offsets [0, 4] hold 4 bytes but shape [2] of F32 needs 8");
        bad(raw("{" + entry("a", "F64", "[1]", 0, 4) + "}", new byte[4]), "tensor a", "shape [1] of F64 needs 8");
        // a huge element count with matching offsets cannot pass the data-section check
        bad(raw("{" + entry("a", "F32", "[1000000000]", 0, 4000000000L) + "}", new byte[4]), "tensor a", "run past the end");
    }

    @Test
    void overlapsAndGaps() throws IOException {
        byte[] d12 = new byte[12];
        bad(raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}", d12),
                "tensor b", "data_offsets [4, 12] overlap those of tensor a [0, 8]");
        bad(raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 0, 8) + "}", new byte[8]),
                "tensor b", "overlap those of tensor a [0, 8]");
        bad(raw("{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("z", "F32", "[0]", 4, 4) + "}", new byte[8]),
                "tensor z", "overlap");
        bad(raw("{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}", d12),
                "tensor b", "leave a gap: data bytes 4 to 8");
        String gapStart = "{" + entry("a", "F32", "[1]", 4, 8) + "}";
        SafeTensorsException e = bad(raw(gapStart, new byte[8]), "tensor a", "leave a gap: data bytes 0 to 4");
        int n = gapStart.length();
        assertTrue(e.getMessage().contains("file bytes " + (8 + n) + " to " + (8 + n + 4)), e.getMessage());
        String trailing = "{" + entry("a", "F32", "[1]", 0, 4) + "}";
        bad(raw(trailing, new byte[7]), "byte " + (8 + trailing.length() + 4), "3 bytes after the last tensor's data belong to no tensor");
        bad(raw("{}", new byte[1]), "byte 10", "1 bytes after the last tensor");
    }

    @Test
    void badMetadata() throws IOException {
        bad(raw("{\"__metadata__\":{\"epoch\":3}}", new byte[0]), "__metadata__.epoch", "metadata values must be strings, got an integer 3");
        bad(raw("{\"__metadata__\":{\"a\":\"ok\",\"b\":null}}", new byte[0]), "__metadata__.b", "must be strings, got null");
        bad(raw("{\"__metadata__\":{\"a\":{\"x\":\"y\"}}}", new byte[0]), "__metadata__.a", "got an object");
        bad(raw("{\"__metadata__\":[\"a\"]}", new byte[0]), "__metadata__", "expected an object of strings, got an array");
        assertTrue(SafeTensors.read(raw("{\"__metadata__\":null}", new byte[0])).metadata().isEmpty());
    }

    @Test
    void unpairedSurrogateEscapes() throws IOException {
        bad(raw("{\"__metadata__\":{\"k\":\"a\\ud800\"}}", new byte[0]), "__metadata__.k", "unpaired surrogate");
        bad(raw("{\"__metadata__\":{\"\\udc00\":\"v\"}}", new byte[0]), "__metadata__.\udc00", "unpaired surrogate");
        bad(raw("{" + entry("w\\ud800", "F32", "[1]", 0, 4) + "}", new byte[4]), "tensor w\ud800", "name is not valid Unicode");
        // a proper pair is fine
        assertEquals("\uD83D\uDE00", SafeTensors.read(raw("{\"__metadata__\":{\"k\":\"\\ud83d\\ude00\"}}", new byte[0]))
                .metadata().get("k"));
    }

    @Test
    void longNamesAreAbbreviatedInMessages() throws IOException {
        String name = "n".repeat(5000);
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.read(raw("{" + entry(name, "F16", "[1]", 0, 2) + "}", new byte[2])));
        assertTrue(e.getMessage().length() < 500, e.getMessage());
        assertTrue(e.location().contains("(5000 chars)"), e.location());
    }

    @Test
    void namesWithNewlinesStayOnOneLine() throws IOException {
        SafeTensorsException e = assertThrows(SafeTensorsException.class,
                () -> SafeTensors.read(raw("{" + entry("a\\nb", "F16", "[1]", 0, 2) + "}", new byte[2])));
        assertTrue(!e.getMessage().contains("\n"));
        assertEquals("tensor a\nb", e.location());
    }

    @Test
    void manyTensorsRoundTrip() {
        List<Tensor> ts = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            ts.add(new Tensor("layers." + i + ".weight", new int[] {i % 5, 3}, new float[(i % 5) * 3]));
        }
        Path f = dir.resolve("many");
        SafeTensors.write(f, Map.of(), ts);
        assertEquals(ts, SafeTensors.read(f).tensors());
    }
}
