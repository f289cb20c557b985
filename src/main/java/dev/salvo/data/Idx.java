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

}
