package dev.salvo.io;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Replaces a file all at once: a reader (or a process started after a crash) sees either the
 * previous complete file or the new complete file, never a mix or a truncated file.
 *
 * <p>{@link #write(Path, IOConsumer)} writes the new content to a temporary file in the target's
 * directory ({@code .<name>.<12 hex digits>.tmp}: the writer's process id in 8 hex digits, then 4
 * random ones), flushes it, forces it to disk ({@code fsync}), renames it over the target with
 * {@link StandardCopyOption#ATOMIC_MOVE}, and then forces the directory so that the rename itself
 * is durable. If anything fails (the body throws, the disk is full, the rename is refused) the
 * temporary file is deleted and the target is untouched.
 *
 * <p>What the target may be:
 * <ul>
 *   <li>a regular file or nothing: replaced or created;</li>
 *   <li>a symbolic link: followed (the whole chain, as {@code open(2)} would), and the file it
 *       points to is replaced; the link itself stays a link. A dangling link creates its target;</li>
 *   <li>anything else (a directory, a character or block device such as {@code /dev/full}, a FIFO,
 *       a socket): refused with {@link NotARegularFile} before anything is written.</li>
 * </ul>
 *
 * <p>A process killed at any moment leaves the old or the new file, plus possibly a stray
 * temporary file; readers only ever open the target name, so they never see it. The next write of
 * the same target deletes such leftovers whose writing process no longer runs (the process id in
 * the name says whose it was), and leaves alone those of a live process, which may be writing
 * now. Temporary files get the default permissions of a new file (the umask), not {@code 0600},
 * so the target keeps the permissions a plain write would give it.
 */
public final class AtomicFile {

    /** A body that writes the new content; it may throw {@link IOException}. */
    @FunctionalInterface
    public interface IOConsumer<T> {
        void accept(T t) throws IOException;
    }

    /** The target exists and is not a regular file (nor a link to one): it is never replaced. */
    public static final class NotARegularFile extends FileSystemException {
        private static final long serialVersionUID = 1L;

        public NotARegularFile(Path file, String kind) {
            super(file.toString(), null, "is " + kind + ", not a regular file");
        }
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int BUFFER = 1 << 16;
    private static final int MAX_LINKS = 40;

    private AtomicFile() {}

    /**
     * Atomically replaces (or creates) {@code target} with what {@code body} writes to the stream.
     * The body may close the stream; it must not keep it after returning.
     *
     * @throws NotARegularFile when the target (after following links) is a directory, device, FIFO or socket
     * @throws IOException from the body or the file system; the target is then unchanged
     */
    public static void write(Path target, IOConsumer<OutputStream> body) throws IOException {
        Path abs = resolve(target);
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException(target + ": not a file path");
        }
        String kind = kindOf(abs);
        if (kind != null) {
            throw new NotARegularFile(target, kind);
        }
        String name = abs.getFileName().toString();
        cleanStale(dir, name);
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

    /**
     * The absolute path {@link #write} replaces for {@code target}: {@code target} itself, or, when
     * it is a symbolic link, the end of its chain of links (which need not exist yet).
     *
     * @throws FileSystemException for a loop of links (more than 40)
     */
    public static Path resolve(Path target) throws IOException {
        Path p = target.toAbsolutePath().normalize();
        for (int i = 0; Files.isSymbolicLink(p); i++) {
            if (i >= MAX_LINKS) {
                throw new FileSystemException(target.toString(), null, "too many levels of symbolic links");
            }
            Path link = Files.readSymbolicLink(p);
            Path parent = p.getParent();
            p = (parent == null ? link : parent.resolve(link)).toAbsolutePath().normalize();
        }
        return p;
    }

    /**
     * What {@code p} is when it exists and is neither a regular file nor a link: "a directory",
     * "a character device", "a block device", "a FIFO", "a socket" (or "not a regular file" where
     * the file system does not say); null when it is a regular file or does not exist. Links are
     * not followed.
     */
    public static String kindOf(Path p) {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return null;
        }
        if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS) || Files.isSymbolicLink(p)) {
            return null;
        }
        if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return "a directory";
        }
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            switch (mode & 0170000) {
                case 0020000: return "a character device";
                case 0060000: return "a block device";
                case 0010000: return "a FIFO";
                case 0140000: return "a socket";
                default: return "not a regular file";
            }
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return "not a regular file";
        }
    }

    private static Path tempName(Path dir, String name) {
        byte[] r = new byte[2];
        RANDOM.nextBytes(r);
        String tag = String.format(Locale.ROOT, "%08x%02x%02x", ProcessHandle.current().pid() & 0xffffffffL, r[0], r[1]);
        return dir.resolve("." + prefix(name) + "." + tag + ".tmp");
    }

    private static String prefix(String name) {
        return name.length() > 64 ? name.substring(0, 64) : name;
    }

    /**
     * Deletes the temporary files of earlier writes of {@code name} in {@code dir} whose process is
     * gone (killed mid-write). Best effort: a file that cannot be listed or deleted is left.
     */
    static void cleanStale(Path dir, String name) {
        Pattern temp = Pattern.compile("\\." + Pattern.quote(prefix(name)) + "\\.([0-9a-f]{8})[0-9a-f]{4}\\.tmp");
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "." + globQuote(prefix(name)) + ".*.tmp")) {
            for (Path p : s) {
                Matcher m = temp.matcher(p.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long pid = Long.parseLong(m.group(1), 16);
                if (pid == self || ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue; // a write in progress (ours, or another live process's)
                }
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // leave it; the write itself does not depend on it
                }
            }
        } catch (IOException | RuntimeException e) {
            // an unlistable directory fails the write itself, with its own reason
        }
    }

    private static String globQuote(String s) {
        return s.replaceAll("([\\\\*?\\[\\]{}])", "\\\\$1");
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
