package dev.salvo.io;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

/**
 * Checks, before any work, that a command will be able to write where it was told to, so that a
 * run is never lost at its end to a bad path. Every failure is an {@link IllegalArgumentException}
 * (the CLI's exit code 2) whose one-line message names the option, the path and the operating
 * system's reason ("permission denied", "read-only file system", "no such file or directory",
 * "is a character device, not a regular file", ...).
 *
 * <p>The check is a real write: missing parent directories are created (as the write would create
 * them) and a probe file is created and deleted in the directory that will receive the file.
 */
public final class OutputPaths {

    private OutputPaths() {
    }

    /**
     * {@code path} can be written by {@link AtomicFile#write}: after following symbolic links it is
     * a regular file or nothing, and its directory exists (or is created now) and is writable.
     *
     * @param option the option or field that named the path, for the message (e.g. {@code --save})
     * @return the path {@link AtomicFile} will replace (links followed)
     */
    public static Path file(String option, Path path) {
        Path target = resolve(option, path);
        String kind = AtomicFile.kindOf(target);
        if (kind != null) {
            throw new IllegalArgumentException(option + " " + path + ": " + kind + ", not a regular file"
                    + (kind.equals("a directory") ? "; expected a file name" : "; refusing to replace it"));
        }
        Path dir = target.getParent();
        if (dir == null) {
            throw new IllegalArgumentException(option + " " + path + ": not a file path");
        }
        probeDirectory(option, path, dir);
        return target;
    }

    /**
     * {@code path} is (or can be made) a writable directory: created now with its parents when
     * missing.
     */
    public static Path directory(String option, Path path) {
        Path target = resolve(option, path);
        String kind = AtomicFile.kindOf(target);
        if (Files.isRegularFile(target)) {
            kind = "a regular file";
        }
        if (kind != null && !kind.equals("a directory")) {
            throw new IllegalArgumentException(option + " " + path + ": " + kind + ", not a directory");
        }
        probeDirectory(option, path, target);
        return target;
    }

    private static Path resolve(String option, Path path) {
        try {
            return AtomicFile.resolve(path);
        } catch (IOException e) {
            throw fail(option, path, e);
        }
    }

    private static void probeDirectory(String option, Path path, Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalArgumentException(option + " " + path + ": " + e.getFile() + " is not a directory");
        } catch (IOException e) {
            throw fail(option, path, e);
        }
        Path probe = null;
        try {
            probe = Files.createTempFile(dir, ".salvo-probe-", ".tmp");
        } catch (IOException e) {
            throw fail(option, path, e);
        } finally {
            if (probe != null) {
                try {
                    Files.deleteIfExists(probe);
                } catch (IOException e) {
                    // harmless: a zero-byte hidden file
                }
            }
        }
    }

    private static IllegalArgumentException fail(String option, Path path, IOException e) {
        return new IllegalArgumentException(option + " " + path + ": cannot write there: " + reason(e), e);
    }

    /**
     * The operating system's reason for an I/O failure, in words: the {@code strerror} text where
     * Java keeps it ({@link FileSystemException#getReason()}), else a phrase for the exception type.
     */
    public static String reason(IOException e) {
        String r = e instanceof FileSystemException f ? f.getReason() : null;
        if (r != null && !r.isBlank()) {
            return r.substring(0, 1).toLowerCase(java.util.Locale.ROOT) + r.substring(1);
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "already exists";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
