package dev.salvo.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Replaces a file all at once: a reader (or a process started after a crash) sees either the
 * previous complete file or the new complete file, never a mix or a truncated file.
 *
 * <p>{@link #write(Path, IOConsumer)} writes the new content to a temporary file in the target's
 * directory ({@code .<name>.<random>.tmp}), flushes it, forces it to disk ({@code fsync}),
 * renames it over the target with {@link StandardCopyOption#ATOMIC_MOVE}, and then forces the
 * directory so that the rename itself is durable. If anything fails (the body throws, the disk
 * is full, the rename is refused) the temporary file is deleted and the target is untouched.
 *
 * <p>A process killed at any moment leaves the old or the new file, plus possibly a stray
 * temporary file; readers only ever open the target name, so they never see it. Temporary files
 * get the default permissions of a new file (the umask), not {@code 0600}, so the target keeps the
 * permissions a plain write would give it. If the target is a symbolic link, the link itself is
 * replaced by a regular file.
 */
public final class AtomicFile {

    /** A body that writes the new content; it may throw {@link IOException}. */
    @FunctionalInterface
    public interface IOConsumer<T> {
        void accept(T t) throws IOException;
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BUFFER = 1 << 16;

    private AtomicFile() {}

    /**
     * Atomically replaces (or creates) {@code target} with what {@code body} writes to the stream.
     * The body may close the stream; it must not keep it after returning.
     *
     * @throws IOException from the body or the file system; the target is then unchanged
     */
    public static void write(Path target, IOConsumer<OutputStream> body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException(target + ": not a file path");
        }
        String name = abs.getFileName().toString();
        Path tmp = tempName(dir, name);
        FileChannel ch;
        for (int attempt = 0; ; attempt++) {
            try {
                // CREATE_NEW never follows or reuses an existing file; permissions follow the umask
                ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                break;
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
                tmp = tempName(dir, name);
            }
        }
        try {
            try (FileChannel c = ch) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(c), BUFFER);
                body.accept(new FilterOutputStream(out) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                    }

                    @Override
                    public void close() throws IOException {
                        out.flush(); // the channel stays open for force() below
                    }
                });
                out.flush();
                c.force(true);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (Throwable t) {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException | RuntimeException e) {
                t.addSuppressed(e);
            }
            throw t;
        }
        syncDirectory(dir);
    }

    /** Atomically replaces (or creates) {@code target} with {@code content}. */
    public static void write(Path target, byte[] content) throws IOException {
        write(target, out -> out.write(content));
    }

    private static Path tempName(Path dir, String name) {
        byte[] r = new byte[6];
        RANDOM.nextBytes(r);
        String prefix = name.length() > 64 ? name.substring(0, 64) : name;
        return dir.resolve("." + prefix + "." + HexFormat.of().formatHex(r) + ".tmp");
    }

    /**
     * Forces the directory entry (the rename) to disk. Some file systems and platforms refuse to
     * open or fsync a directory (Windows, some network file systems): that {@link IOException}
     * is ignored, since the rename has already happened and is atomic; nothing else is.
     */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // directory fsync unsupported here; the file content itself was forced
        }
    }
}
