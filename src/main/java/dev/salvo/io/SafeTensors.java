package dev.salvo.io;

import dev.salvo.io.SafeTensorsHeader.Entry;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format:
 * an 8-byte little-endian unsigned header length {@code N}, then {@code N} bytes of UTF-8 JSON,
 * then the raw tensor data. The header maps each tensor name to
 * {@code {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}}, the offsets relative to
 * the start of the data section, plus an optional {@code "__metadata__"} object of strings.
 *
 * <p>The writer emits {@code F32} only: {@code __metadata__} first (when not empty), then the
 * tensors in the order given, contiguous and little-endian; the header is compact JSON padded
 * with spaces to a multiple of 8 bytes, as the reference implementation does. The file is
 * replaced atomically ({@link AtomicFile}).
 *
 * <p>The reader accepts {@code F32} and {@code F64} (converted to float, rounding to nearest;
 * values beyond the float range become infinite) and rejects every other dtype. It validates
 * the whole header before it reads any data, and it never allocates more than the file holds
 * (the JSON tree of the header aside): the header length is checked against the file and the
 * {@value #MAX_HEADER_BYTES}-byte limit of the reference implementation first, and each tensor's
 * byte length against its shape and the data section. The data section must be covered exactly:
 * offsets that overlap or leave gaps (including bytes after the last tensor) are errors, as in
 * the reference. Keys in a tensor entry other than dtype, shape and data_offsets are ignored,
 * as in the reference. Every malformed file gives a {@link SafeTensorsException} that names the
 * file and the byte offset or tensor; file-system failures give {@link UncheckedIOException}.
 */
public final class SafeTensors {

    /** Largest header the reader accepts, in bytes (the reference implementation's limit). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    /** JSON nesting the reader accepts; a valid header needs 3 (serde_json's own limit is 128). */
    static final int MAX_NESTING = 128;

    /** Largest Java array. */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;

    private static final int CHUNK = 1 << 20;

    static final Set<String> KNOWN_DTYPES = Set.of(
            "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
            "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64", "C64");

    static final ObjectMapper READER = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder()
                            .maxStringLength((int) MAX_HEADER_BYTES)
                            .maxNameLength((int) MAX_HEADER_BYTES)
                            .maxDocumentLength(MAX_HEADER_BYTES)
                            .maxNestingDepth(MAX_NESTING)
                            .build())
                    .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                    .build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .build();

    private static final ObjectMapper WRITER = new ObjectMapper();

    private SafeTensors() {}

    /**
     * One float32 tensor: a name, a shape and its elements in row-major order. The arrays are
     * not copied. {@code equals}, {@code hashCode} and {@code toString} look at their contents.
     */
    public record Tensor(String name, int[] shape, float[] data) {
        public Tensor {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(shape, "shape");
            Objects.requireNonNull(data, "data");
            long n = 1;
            for (int d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException("tensor " + name + ": negative dimension in shape " + Arrays.toString(shape));
                }
            }
            for (int d : shape) {
                n = d == 0 ? 0 : n * d; // each factor < 2^31, so n stays exact until it passes data.length
                if (n > data.length) {
                    break;
                }
            }
            if (Arrays.stream(shape).anyMatch(d -> d == 0)) {
                n = 0;
            }
            if (n != data.length) {
                throw new IllegalArgumentException("tensor " + name + ": shape " + Arrays.toString(shape)
                        + " holds " + n + " elements but data has " + data.length);
            }
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Tensor t && name.equals(t.name) && Arrays.equals(shape, t.shape) && Arrays.equals(data, t.data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(name, Arrays.hashCode(shape), Arrays.hashCode(data));
        }

        @Override
        public String toString() {
            return "Tensor[" + name + ", shape=" + Arrays.toString(shape) + ", " + data.length + " floats]";
        }
    }

    /**
     * What a file holds: its {@code __metadata__} (empty when absent), its tensors in file order,
     * and the SHA-256 of its data section (every byte after the header, lower-case hex; null
     * when the contents were not read from a file). {@code equals} and {@code hashCode} compare
     * the metadata and tensors only: the digest describes the bytes they were read from (an F64
     * file and its F32 rewrite hold equal contents).
     */
    public record Contents(Map<String, String> metadata, List<Tensor> tensors, String dataSha256) {
        public Contents {
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
            tensors = List.copyOf(tensors);
        }

        public Contents(Map<String, String> metadata, List<Tensor> tensors) {
            this(metadata, tensors, null);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Contents c && metadata.equals(c.metadata) && tensors.equals(c.tensors);
        }

        @Override
        public int hashCode() {
            return Objects.hash(metadata, tensors);
        }

        /** The tensor with this name; {@link IllegalArgumentException} when there is none (see {@link #find}). */
        public Tensor get(String name) {
            Tensor t = find(name);
            if (t == null) {
                throw new IllegalArgumentException("no tensor " + name);
            }
            return t;
        }

        /** The tensor with this name, or null when there is none. */
        public Tensor find(String name) {
            for (Tensor t : tensors) {
                if (t.name().equals(name)) {
                    return t;
                }
            }
            return null;
        }
    }

    /**
     * The SHA-256 (lower-case hex) of the data section {@link #write} makes of these tensors: their
     * float32 values, little-endian, in this order. {@link Contents#dataSha256()} of the file read
     * back is the same string.
     */
    public static String dataSha256(List<Tensor> tensors) {
        MessageDigest md = sha256();
        try {
            writeData(new OutputStream() {
                @Override
                public void write(int b) {
                    md.update((byte) b);
                }

                @Override
                public void write(byte[] b, int off, int len) {
                    md.update(b, off, len);
                }
            }, tensors);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes {@code tensors} (float32, in this order) and {@code metadata} (may be null or empty)
     * to {@code file}, replacing it atomically.
     *
     * @throws IllegalArgumentException for duplicate or reserved ({@code __metadata__}) names,
     *     or strings that are not valid Unicode
     * @throws UncheckedIOException when the file system fails; the old file is then untouched
     */
    public static void write(Path file, Map<String, String> metadata, List<Tensor> tensors) {
        byte[] header = header(metadata == null ? Map.of() : metadata, tensors);
        try {
            AtomicFile.write(file, out -> {
                ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
                out.write(len.array());
                out.write(header);
                writeData(out, tensors);
            });
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot write: " + e.getMessage(), e);
        }
    }

    /** The header bytes, JSON padded with spaces to a multiple of 8. */
    static byte[] header(Map<String, String> metadata, List<Tensor> tensors) {
        CharsetEncoder utf8 = StandardCharsets.UTF_8.newEncoder();
        ObjectNode root = WRITER.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode m = root.putObject("__metadata__");
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                String k = Objects.requireNonNull(e.getKey(), "metadata key");
                String v = Objects.requireNonNull(e.getValue(), () -> "metadata value for " + k);
                if (!utf8.canEncode(k) || !utf8.canEncode(v)) {
                    throw new IllegalArgumentException("metadata " + k + ": not valid Unicode (unpaired surrogate)");
                }
                m.put(k, v);
            }
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (Tensor t : tensors) {
            String name = t.name();
            if (name.equals("__metadata__")) {
                throw new IllegalArgumentException("tensor name __metadata__ is reserved");
            }
            if (!names.add(name)) {
                throw new IllegalArgumentException("duplicate tensor name " + name);
            }
            if (!utf8.canEncode(name)) {
                throw new IllegalArgumentException("tensor name " + name + ": not valid Unicode (unpaired surrogate)");
            }
            ObjectNode e = root.putObject(name);
            e.put("dtype", "F32");
            ArrayNode shape = e.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            long end = offset + 4L * t.data().length;
            e.putArray("data_offsets").add(offset).add(end);
            offset = end;
        }
        byte[] json;
        try {
            json = WRITER.writeValueAsBytes(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise safetensors header", e);
        }
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeData(OutputStream out, List<Tensor> tensors) throws IOException {
        ByteBuffer bb = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        int perChunk = bb.capacity() / 4;
        for (Tensor t : tensors) {
            float[] d = t.data();
            for (int off = 0; off < d.length; off += perChunk) {
                int k = Math.min(perChunk, d.length - off);
                bb.clear();
                bb.asFloatBuffer().put(d, off, k);
                out.write(bb.array(), 0, 4 * k);
            }
        }
    }

    // ------------------------------------------------------------------ reading

    /**
     * Reads a whole safetensors file.
     *
     * @throws SafeTensorsException when the file is not a valid safetensors file of F32/F64 tensors
     * @throws UncheckedIOException when the file cannot be opened or read
     */
    public static Contents read(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return read(file, ch);
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static Contents read(Path file, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new SafeTensorsException(file, "byte 0",
                    "file is " + size + " bytes, too short for the 8-byte header length");
        }
        ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, lenBuf, 0);
        long n = lenBuf.getLong(0); // unsigned: negative here means >= 2^63
        if (n < 0 || n > MAX_HEADER_BYTES) {
            throw new SafeTensorsException(file, "byte 0", "header length " + Long.toUnsignedString(n)
                    + " is larger than the limit of " + MAX_HEADER_BYTES + " bytes");
        }
        if (n > size - 8) {
            throw new SafeTensorsException(file, "byte 0", "header length " + n + " exceeds the file: only "
                    + (size - 8) + " bytes follow the length");
        }
        if (n == 0) {
            throw new SafeTensorsException(file, "byte 8", "header is empty, expected a JSON object");
        }
        byte[] headerBytes = new byte[(int) n];
        readFully(file, ch, ByteBuffer.wrap(headerBytes), 8);
        String json = SafeTensorsHeader.decodeUtf8(file, headerBytes);
        headerBytes = null;
        JsonNode root = SafeTensorsHeader.parse(file, json);
        json = null;

        long dataStart = 8 + n;
        long dataLen = size - dataStart;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        Iterator<Map.Entry<String, JsonNode>> fields = root.fields();
        int index = 0;
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> f = fields.next();
            if (f.getKey().equals("__metadata__")) {
                SafeTensorsHeader.readMetadata(file, f.getValue(), metadata);
            } else {
                entries.add(SafeTensorsHeader.entry(file, f.getKey(), index++, f.getValue(), dataLen));
            }
        }

        // the data section must be covered exactly once, in offset order
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end)
                .thenComparingInt(Entry::index));
        long covered = 0;
        Entry prev = null;
        for (Entry e : entries) {
            if (e.begin() < covered) {
                throw new SafeTensorsException(file, e.where(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] overlap those of " + SafeTensorsHeader.tensorLocation(prev.name()) + " [" + prev.begin() + ", " + prev.end() + "]");
            }
            if (e.begin() > covered) {
                throw new SafeTensorsException(file, e.where(), "data_offsets [" + e.begin() + ", " + e.end()
                        + "] leave a gap: data bytes " + covered + " to " + e.begin() + " (file bytes "
                        + (dataStart + covered) + " to " + (dataStart + e.begin()) + ") belong to no tensor");
            }
            covered = e.end();
            prev = e;
        }
        if (covered != dataLen) {
            throw new SafeTensorsException(file, "byte " + (dataStart + covered), (dataLen - covered)
                    + " bytes after the last tensor's data belong to no tensor (data section is " + dataLen + " bytes)");
        }

        // the entries, in offset order, cover the data section exactly: digest it as it is read
        MessageDigest md = sha256();
        List<Tensor> tensors = new ArrayList<>(entries.size());
        ByteBuffer buf = null;
        for (Entry e : entries) {
            float[] data = new float[(int) e.count()];
            long pos = dataStart + e.begin();
            int done = 0;
            while (done < data.length) {
                int k = (int) Math.min(CHUNK / e.elemSize(), data.length - done);
                if (buf == null) {
                    buf = ByteBuffer.allocate((int) Math.min(CHUNK, dataLen)).order(ByteOrder.LITTLE_ENDIAN);
                }
                buf.clear().limit(k * e.elemSize());
                readFully(file, ch, buf, pos);
                buf.flip();
                md.update(buf.array(), 0, buf.limit());
                if (e.elemSize() == 4) {
                    buf.asFloatBuffer().get(data, done, k);
                } else {
                    for (int i = 0; i < k; i++) {
                        data[done + i] = (float) buf.getDouble(8 * i);
                    }
                }
                pos += (long) k * e.elemSize();
                done += k;
            }
            tensors.add(new Tensor(e.name(), e.shape(), data));
        }
        return new Contents(metadata, tensors, HexFormat.of().formatHex(md.digest()));
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                throw new SafeTensorsException(file, "byte " + pos, "file ended early (did it change while being read?)");
            }
            pos += r;
        }
    }

}
