package dev.salvo.util;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opening an input file (or folder) for reading, with one-line reasons when it cannot be: every
 * method throws {@link IllegalArgumentException} whose message is {@code "<what>: <reason>"}, where
 * {@code what} names the option or variable the path came from ({@code --model},
 * {@code SALVO_KERNELS}) and the reason names the path and what was expected:
 *
 * <ul>
 *   <li>{@code no such file P} / {@code no such directory P}</li>
 *   <li>{@code P is a directory, expected a file}</li>
 *   <li>{@code P is not a regular file (a device, pipe or socket), expected a file} ({@code /dev/null})</li>
 *   <li>{@code P is not a directory}</li>
 *   <li>{@code cannot read P: permission denied} (the file system said so when opening it)</li>
 *   <li>{@code P is not UTF-8 text (byte N is 0xXX); expected a text file} ({@link #readText})</li>
 * </ul>
 *
 * Readability is decided by opening the file, not by its permission bits, so the answer is the
 * operating system's for this process (root, capabilities, ACLs).
 */
public final class InputFiles {

    /** An input file or folder that cannot be used; the message is complete (it already names its option or variable). */
    public static final class Unusable extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        Unusable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private InputFiles() {
    }

    /**
     * Checks that {@code file} is a regular file this process can open for reading (it is opened
     * and closed); returns it.
     */
    public static Path requireFile(String what, Path file) {
        try (InputStream in = open(what, file)) {
            return file;
        } catch (IOException e) {
            throw fail(what, reason(file, e), e);
        }
    }

    /** Opens {@code file} for reading after checking that it is a regular file. */
    public static InputStream open(String what, Path file) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (IOException e) {
            throw fail(what, reason(file, e), e);
        }
        if (a.isDirectory()) {
            throw fail(what, file + " is a directory, expected a file", null);
        }
        if (!a.isRegularFile()) {
            throw fail(what, file + " is not a regular file (a device, pipe or socket), expected a file", null);
        }
        try {
            return Files.newInputStream(file);
        } catch (IOException e) {
            throw fail(what, reason(file, e), e);
        }
    }

    /** Checks that {@code dir} is an existing directory; returns it. */
    public static Path requireDirectory(String what, Path dir) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(dir, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
            throw fail(what, "no such directory " + dir, e);
        } catch (IOException e) {
            throw fail(what, reason(dir, e), e);
        }
        if (!a.isDirectory()) {
            throw fail(what, dir + " is not a directory", null);
        }
        return dir;
    }

    /** The whole of {@code file} as UTF-8 text; bytes that are not UTF-8 are an error naming the first one's offset. */
    public static String readText(String what, Path file) {
        byte[] bytes;
        try (InputStream in = open(what, file)) {
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw fail(what, reason(file, e), e);
        }
        return decode(what, file.toString(), bytes);
    }

    /** {@code bytes} (read from {@code source}) as UTF-8 text, or an error naming the first byte that is not. */
    public static String decode(String what, String source, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate((int) Math.min(Integer.MAX_VALUE - 16, (long) bytes.length + 1));
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            int at = in.position();
            throw fail(what, source + " is not UTF-8 text (byte " + at + " is "
                    + String.format("0x%02x", bytes[Math.min(at, bytes.length - 1)] & 0xff) + "); expected a text file", null);
        }
        out.flip();
        return out.toString();
    }

    /** The one-line reason for an I/O failure on {@code file}, e.g. {@code cannot read P: permission denied}. */
    public static String reason(Path file, IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file " + file;
        }
        if (e instanceof AccessDeniedException) {
            return "cannot read " + file + ": permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "no such file " + file + " (a folder on the way is a file)";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            if (fs.getReason().equals("Is a directory")) {
                return file + " is a directory, expected a file";
            }
            if (fs.getReason().equals("Not a directory")) {
                return "no such file " + file + " (a folder on the way is a file)";
            }
            return "cannot read " + file + ": " + fs.getReason();
        }
        if (e instanceof CharacterCodingException) {
            return file + " is not UTF-8 text; expected a text file";
        }
        return "cannot read " + file + ": " + e.getMessage();
    }

    private static Unusable fail(String what, String reason, Throwable cause) {
        return new Unusable(what == null || what.isEmpty() ? reason : what + ": " + reason, cause);
    }
}
