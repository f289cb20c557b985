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
 * A file opened for reading, decompressed on the fly when it starts with the gzip magic
 * bytes. Gzip container problems (bad member header, corrupt deflate data, CRC or length
 * mismatch, truncation, trailing bytes) come out of {@code read} as {@link DataFormatException}
 * naming the compressed byte. Shared by the IDX and CSV readers.
 */
final class Input extends InputStream {
    final Path file;
    final boolean gzip;
    final long fileSize;
    private final InputStream raw;
    private static final int BUFFER = 1 << 16;
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
