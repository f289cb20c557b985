package dev.salvo.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import java.util.zip.Inflater;

/**
 * Reader for the IDX format of the MNIST family of datasets, plain or gzip-compressed.
 *
 * <p>Layout (all numbers big-endian): two zero bytes, a type code ({@code 0x08} unsigned byte,
 * {@code 0x09} signed byte, {@code 0x0B} 16-bit int, {@code 0x0C} 32-bit int, {@code 0x0D}
 * 32-bit float, {@code 0x0E} 64-bit float), the number of dimensions (1 to {@link #MAX_DIMS}),
 * one 32-bit size per dimension, then the elements in row-major order and nothing after them.
 *
 * <p>Compression is detected by the gzip magic bytes {@code 1f 8b}, never by the file name, and
 * inflated while reading (multi-member gzip files are accepted; the CRC and length of every
 * member are checked; bytes after the last member are an error).
 *
 * <p>Every malformed file gives a {@link DataFormatException} naming the file and the byte. The
 * reader never allocates more than the file can hold: for a plain file the declared size must
 * equal the file length before anything is allocated; for a gzip file the declared size must fit
 * in {@link #MAX_DEFLATE_RATIO} times the compressed size, and the value array grows as data
 * actually arrives instead of being sized from the header.
 *
 * <p>All element types are returned as {@code float}: 32-bit ints beyond 2^24 and doubles are
 * rounded to the nearest float.
 */
public final class Idx {

    public static final int UBYTE = 0x08;
    public static final int BYTE = 0x09;
    public static final int SHORT = 0x0B;
    public static final int INT = 0x0C;
    public static final int FLOAT = 0x0D;
    public static final int DOUBLE = 0x0E;

    /** Most dimensions accepted in a header. */
    public static final int MAX_DIMS = 8;
    /** Most elements one tensor may hold (the largest Java array). */
    public static final int MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    /** Upper bound on deflate's compression ratio (the format's maximum is about 1032:1). */
    public static final long MAX_DEFLATE_RATIO = 1032;

    private static final int BUFFER = 1 << 16;

    private Idx() {
    }

    /**
     * A tensor read from an IDX file.
     *
     * @param file   the file it came from
     * @param type   the element type code ({@link #UBYTE} ... {@link #DOUBLE})
     * @param dims   the dimensions, outermost first
     * @param values the elements, row-major, converted to float
     * @param gzip   whether the file was gzip-compressed (locations then count decompressed bytes)
     */
    public record Tensor(Path file, int type, int[] dims, float[] values, boolean gzip) {

        /** Number of elements. */
        public int size() {
            return values.length;
        }

        /** Size of dimension {@code i}. */
        public int dim(int i) {
            return dims[i];
        }

        /** Offset of the first element: 4 bytes of magic and 4 per dimension. */
        public int headerBytes() {
            return 4 + 4 * dims.length;
        }

        /** Where element {@code index} lies in the (decompressed) file, as a location string. */
        public String locationOf(long index) {
            return at(headerBytes() + index * elementSize(type), gzip);
        }

        /**
         * The elements as integer labels. The values must be integers (any element type; an
         * integer type always passes) and non-negative.
         *
         * @throws DataFormatException naming the byte of the first value that is not a label
         */
        public int[] asLabels() {
            int[] out = new int[values.length];
            for (int i = 0; i < values.length; i++) {
                float v = values[i];
                int l = (int) v;
                if (l != v || l < 0) {
                    throw new DataFormatException(file, locationOf(i),
                            "element " + i + " is " + v + ", not a label (an integer >= 0)");
                }
                out[i] = l;
            }
            return out;
        }

        @Override
        public String toString() {
            return "Idx.Tensor[" + file + ", " + typeName(type) + " " + Arrays.toString(dims) + "]";
        }
    }

    /** Bytes per element of a type code, or 0 for an unknown code. */
    public static int elementSize(int type) {
        return switch (type) {
            case UBYTE, BYTE -> 1;
            case SHORT -> 2;
            case INT, FLOAT -> 4;
            case DOUBLE -> 8;
            default -> 0;
        };
    }

    /** Name of a type code, e.g. {@code ubyte}. */
    public static String typeName(int type) {
        return switch (type) {
            case UBYTE -> "ubyte";
            case BYTE -> "byte";
            case SHORT -> "short";
            case INT -> "int";
            case FLOAT -> "float";
            case DOUBLE -> "double";
            default -> String.format("unknown(0x%02x)", type);
        };
    }

    /**
     * Reads an IDX file, plain or gzip-compressed.
     *
     * @throws DataFormatException  if the file is not a well-formed IDX file
     * @throws UncheckedIOException if the file cannot be read at all
     */
    public static Tensor read(Path file) {
        try (Input in = Input.open(file)) {
            return read(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /**
     * The dimensions the header of an IDX file (plain or gzip) declares, read without the data:
     * for estimates such as the memory a dataset needs. Null when the header cannot be read or is
     * not an IDX header.
     */
    public static int[] dims(Path file) {
        try (Input in = Input.open(file)) {
            byte[] magic = new byte[4];
            if (in.readFully(magic, 0, 4) < 4 || magic[0] != 0 || magic[1] != 0 || elementSize(magic[2] & 0xFF) == 0) {
                return null;
            }
            int ndims = magic[3] & 0xFF;
            if (ndims < 1 || ndims > MAX_DIMS) {
                return null;
            }
            byte[] head = new byte[4 * ndims];
            if (in.readFully(head, 0, head.length) < head.length) {
                return null;
            }
            int[] dims = new int[ndims];
            ByteBuffer hb = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
            for (int i = 0; i < ndims; i++) {
                dims[i] = hb.getInt(4 * i);
                if (dims[i] < 0) {
                    return null;
                }
            }
            return dims;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static Tensor read(Input in) throws IOException {
        Path file = in.file;
        byte[] magic = new byte[4];
        int got = in.readFully(magic, 0, 4);
        if (got < 4) {
            throw new DataFormatException(file, "bytes 0..3", "file ends after " + got
                    + " bytes, before the 4-byte IDX magic number");
        }
        int type = magic[2] & 0xFF;
        int ndims = magic[3] & 0xFF;
        int size = elementSize(type);
        if (magic[0] != 0 || magic[1] != 0 || size == 0 || ndims < 1 || ndims > MAX_DIMS) {
            String why = magic[0] != 0 || magic[1] != 0 ? "the first two bytes must be zero"
                    : size == 0 ? String.format("unknown element type 0x%02x (expected 08, 09, 0B, 0C, 0D or 0E)", type)
                    : "number of dimensions " + ndims + " is not in 1.." + MAX_DIMS;
            throw new DataFormatException(file, "bytes 0..3", String.format(
                    "bad IDX magic number %02x %02x %02x %02x: %s", magic[0] & 0xFF, magic[1] & 0xFF, type, ndims, why));
        }
        byte[] head = new byte[4 * ndims];
        got = in.readFully(head, 0, head.length);
        if (got < head.length) {
            throw new DataFormatException(file, at(4 + got, in.gzip), "file ends inside the header, which declares "
                    + ndims + " dimensions (" + (4 + head.length) + " header bytes)");
        }
        int[] dims = new int[ndims];
        long count = 1;
        ByteBuffer hb = ByteBuffer.wrap(head).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < ndims; i++) {
            dims[i] = hb.getInt(4 * i);
            if (dims[i] < 0) {
                throw new DataFormatException(file, at(4 + 4 * i, in.gzip), "dimension " + i + " is "
                        + Integer.toUnsignedString(dims[i]) + ", above the largest supported 2^31-1");
            }
            try {
                count = Math.multiplyExact(count, (long) dims[i]);
            } catch (ArithmeticException e) {
                throw new DataFormatException(file, at(4 + 4 * i, in.gzip), "the product of dimensions "
                        + Arrays.toString(dims) + " overflows 64 bits", e);
            }
        }
        long headerBytes = 4 + 4L * ndims;
        if (count > MAX_ELEMENTS) {
            throw new DataFormatException(file, "bytes 4.." + (headerBytes - 1), "dimensions " + Arrays.toString(dims)
                    + " make " + count + " elements, more than one array can hold (" + MAX_ELEMENTS + ")");
        }
        long dataBytes = count * size; // cannot overflow: count < 2^31, size <= 8
        long total = headerBytes + dataBytes;
        if (!in.gzip) {
            if (in.fileSize < total) {
                throw new DataFormatException(file, "byte " + in.fileSize, "file truncated: the header declares "
                        + Arrays.toString(dims) + " " + typeName(type) + " elements = " + dataBytes
                        + " data bytes ending at byte " + total + ", but the file has " + in.fileSize + " bytes");
            }
            if (in.fileSize > total) {
                throw new DataFormatException(file, "byte " + total, (in.fileSize - total)
                        + " bytes of trailing data after the " + dataBytes + " data bytes the header declares ("
                        + Arrays.toString(dims) + " " + typeName(type) + ")");
            }
        } else {
            long bound = Math.multiplyExact(in.fileSize, MAX_DEFLATE_RATIO) + 1024;
            if (total > bound) {
                throw new DataFormatException(file, "bytes 4.." + (headerBytes - 1), "the header declares "
                        + Arrays.toString(dims) + " " + typeName(type) + " elements = " + dataBytes
                        + " data bytes, more than a gzip file of " + in.fileSize + " bytes can hold (at most "
                        + bound + ")");
            }
        }
        int n = (int) count;
        // Plain files: the size was checked against the file, so allocate it all. Gzip: start from a
        // guess tied to the compressed size and grow as data arrives.
        int capacity = in.gzip ? (int) Math.min(n, Math.max(1 << 16, 8 * in.fileSize / size)) : n;
        float[] values = new float[capacity];
        byte[] buf = new byte[BUFFER];
        ByteBuffer bb = ByteBuffer.wrap(buf).order(ByteOrder.BIG_ENDIAN);
        int filled = 0; // bytes in buf not yet converted
        int done = 0; // elements converted
        long pos = headerBytes; // (decompressed) offset of buf[0]
        while (done < n) {
            long wantBytes = (long) (n - done) * size - filled;
            int r = in.read(buf, filled, (int) Math.min(buf.length - filled, wantBytes));
            if (r < 0) {
                long end = pos + filled;
                throw new DataFormatException(file, at(end, in.gzip), "data truncated: the header declares "
                        + Arrays.toString(dims) + " " + typeName(type) + " elements = " + dataBytes
                        + " data bytes ending at byte " + total + ", but the data ends at byte " + end);
            }
            filled += r;
            int k = filled / size;
            if (done + k > values.length) {
                values = Arrays.copyOf(values, (int) Math.min(n, Math.max((long) done + k, 2L * values.length)));
            }
            convert(type, buf, bb, k, values, done);
            done += k;
            int used = k * size;
            if (used < filled) {
                System.arraycopy(buf, used, buf, 0, filled - used);
            }
            filled -= used;
            pos += used;
        }
        if (in.gzip) {
            if (in.read() >= 0) {
                throw new DataFormatException(file, at(total, true), "trailing data after the " + dataBytes
                        + " data bytes the header declares (" + Arrays.toString(dims) + " " + typeName(type) + ")");
            }
        }
        if (values.length != n) {
            values = Arrays.copyOf(values, n);
        }
        return new Tensor(file, type, dims, values, in.gzip);
    }

    private static void convert(int type, byte[] b, ByteBuffer bb, int k, float[] v, int o) {
        switch (type) {
            case UBYTE -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = b[i] & 0xFF;
                }
            }
            case BYTE -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = b[i];
                }
            }
            case SHORT -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = bb.getShort(2 * i);
                }
            }
            case INT -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = bb.getInt(4 * i);
                }
            }
            case FLOAT -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = bb.getFloat(4 * i);
                }
            }
            case DOUBLE -> {
                for (int i = 0; i < k; i++) {
                    v[o + i] = (float) bb.getDouble(8 * i);
                }
            }
            default -> throw new AssertionError(type);
        }
    }

    /** A location string for a byte offset: {@code byte N}, or {@code byte N of the decompressed data}. */
    static String at(long offset, boolean gzip) {
        return gzip ? "byte " + offset + " of the decompressed data" : "byte " + offset;
    }

    /**
     * A file opened for reading, decompressed on the fly when it starts with the gzip magic
     * bytes. Gzip container problems (bad member header, corrupt deflate data, CRC or length
     * mismatch, truncation, trailing bytes) come out of {@code read} as {@link DataFormatException}
     * naming the compressed byte. Shared by the IDX and CSV readers.
     */
    static final class Input extends InputStream {
        final Path file;
        final boolean gzip;
        final long fileSize;
        private final InputStream raw;
        private final byte[] ibuf = new byte[BUFFER];
        private int ipos;
        private int ilen;
        private long ibufStart; // file offset of ibuf[0]
        private boolean rawEof;
        // gzip state
        private Inflater inflater;
        private final CRC32 crc = new CRC32();
        private long memberOut;
        private long memberStart;
        private boolean inMember;
        private boolean done;

        private Input(Path file, InputStream raw, long fileSize) throws IOException {
            this.file = file;
            this.raw = raw;
            this.fileSize = fileSize;
            fill();
            this.gzip = ilen >= 2 && (ibuf[0] & 0xFF) == 0x1f && (ibuf[1] & 0xFF) == 0x8b;
            if (gzip) {
                inflater = new Inflater(true);
            }
        }

        static Input open(Path file) throws IOException {
            long size = Files.size(file);
            InputStream raw = Files.newInputStream(file);
            try {
                return new Input(file, raw, size);
            } catch (IOException | RuntimeException e) {
                raw.close();
                throw e;
            }
        }

        /** Reads up to {@code len} bytes until the buffer is full or the data ends; returns the count. */
        int readFully(byte[] b, int off, int len) throws IOException {
            int n = 0;
            while (n < len) {
                int r = read(b, off + n, len - n);
                if (r < 0) {
                    break;
                }
                n += r;
            }
            return n;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int r = readFully(one, 0, 1);
            return r == 1 ? one[0] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!gzip) {
                if (ipos < ilen) {
                    int n = Math.min(len, ilen - ipos);
                    System.arraycopy(ibuf, ipos, b, off, n);
                    ipos += n;
                    return n;
                }
                if (rawEof) {
                    return -1;
                }
                if (len >= ibuf.length) {
                    int r = raw.read(b, off, len);
                    if (r < 0) {
                        rawEof = true;
                    } else {
                        ibufStart += r;
                    }
                    return r;
                }
                fill();
                return ilen == 0 ? -1 : read(b, off, len);
            }
            return inflate(b, off, len);
        }

        private int inflate(byte[] b, int off, int len) throws IOException {
            while (true) {
                if (done) {
                    return -1;
                }
                if (!inMember) {
                    readMemberHeader();
                    continue;
                }
                int n;
                try {
                    n = inflater.inflate(b, off, len);
                } catch (java.util.zip.DataFormatException e) {
                    throw new DataFormatException(file, "compressed byte " + compressedPos(),
                            "corrupt deflate data in the gzip member starting at compressed byte " + memberStart
                                    + ": " + e.getMessage(), e);
                }
                if (n > 0) {
                    crc.update(b, off, n);
                    memberOut += n;
                    return n;
                }
                if (inflater.finished()) {
                    ipos = ilen - inflater.getRemaining();
                    readMemberTrailer();
                    continue;
                }
                if (inflater.needsDictionary()) {
                    throw new DataFormatException(file, "compressed byte " + compressedPos(),
                            "deflate data asks for a preset dictionary, which gzip does not allow");
                }
                if (inflater.needsInput()) {
                    fill();
                    if (ilen == 0) {
                        throw new DataFormatException(file, "compressed byte " + fileOffset(),
                                "gzip data truncated: the file ends inside the compressed stream of the member"
                                        + " starting at compressed byte " + memberStart + " (after " + memberOut
                                        + " decompressed bytes)");
                    }
                    inflater.setInput(ibuf, 0, ilen);
                    ipos = ilen;
                }
            }
        }

        private long compressedPos() {
            return ibufStart + ilen - inflater.getRemaining();
        }

        private long fileOffset() {
            return ibufStart + ipos;
        }

        /** Refills {@code ibuf} from the file when it is used up; {@code ilen == 0} afterwards means end of file. */
        private void fill() throws IOException {
            if (ipos < ilen) {
                return;
            }
            ibufStart += ilen;
            ipos = 0;
            ilen = 0;
            if (rawEof) {
                return;
            }
            while (ilen == 0) {
                int r = raw.read(ibuf, 0, ibuf.length);
                if (r < 0) {
                    rawEof = true;
                    return;
                }
                ilen = r;
            }
        }

        private int rawByte(String what) throws IOException {
            fill();
            if (ilen == 0) {
                throw new DataFormatException(file, "compressed byte " + fileOffset(),
                        "gzip data truncated: the file ends inside the " + what + " of the member starting at compressed byte "
                                + memberStart);
            }
            return ibuf[ipos++] & 0xFF;
        }

        private boolean atRawEof() throws IOException {
            fill();
            return ilen == 0;
        }

        private void readMemberHeader() throws IOException {
            memberStart = fileOffset();
            if (memberStart > 0 && atRawEof()) {
                done = true;
                return;
            }
            int id1 = atRawEof() ? -1 : rawByte("header");
            int id2 = atRawEof() ? -1 : rawByte("header");
            if (id1 != 0x1f || id2 != 0x8b) {
                throw new DataFormatException(file, "compressed byte " + memberStart, "trailing data after the gzip stream ("
                        + (fileSize - memberStart) + " bytes that do not start a gzip member)");
            }
            int cm = rawByte("header");
            if (cm != 8) {
                throw new DataFormatException(file, "compressed byte " + (memberStart + 2),
                        "gzip compression method " + cm + ", expected 8 (deflate)");
            }
            int flg = rawByte("header");
            if ((flg & 0xE0) != 0) {
                throw new DataFormatException(file, "compressed byte " + (memberStart + 3),
                        String.format("reserved gzip header flags set (0x%02x)", flg));
            }
            for (int i = 0; i < 6; i++) { // MTIME, XFL, OS
                rawByte("header");
            }
            if ((flg & 4) != 0) { // FEXTRA
                int xlen = rawByte("header") | rawByte("header") << 8;
                for (int i = 0; i < xlen; i++) {
                    rawByte("header extra field");
                }
            }
            if ((flg & 8) != 0) { // FNAME
                while (rawByte("header file name") != 0) {
                    // skip
                }
            }
            if ((flg & 16) != 0) { // FCOMMENT
                while (rawByte("header comment") != 0) {
                    // skip
                }
            }
            if ((flg & 2) != 0) { // FHCRC
                rawByte("header");
                rawByte("header");
            }
            inflater.reset();
            crc.reset();
            memberOut = 0;
            inMember = true;
            if (ipos < ilen) {
                inflater.setInput(ibuf, ipos, ilen - ipos);
                ipos = ilen;
            }
        }

        private void readMemberTrailer() throws IOException {
            long at = fileOffset();
            long storedCrc = 0;
            long storedSize = 0;
            for (int i = 0; i < 4; i++) {
                storedCrc |= (long) rawByte("trailer") << (8 * i);
            }
            for (int i = 0; i < 4; i++) {
                storedSize |= (long) rawByte("trailer") << (8 * i);
            }
            if (storedCrc != crc.getValue()) {
                throw new DataFormatException(file, "compressed byte " + at, String.format(
                        "gzip CRC mismatch: the trailer says %08x, the data gives %08x", storedCrc, crc.getValue()));
            }
            if (storedSize != (memberOut & 0xFFFFFFFFL)) {
                throw new DataFormatException(file, "compressed byte " + (at + 4), "gzip length mismatch: the trailer says "
                        + storedSize + " bytes, the member has " + memberOut);
            }
            inMember = false;
        }

        @Override
        public void close() throws IOException {
            if (inflater != null) {
                inflater.end();
            }
            raw.close();
        }
    }
}
