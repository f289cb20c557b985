package dev.salvo.kernel;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Compiled kernels on disk, keyed by a SHA-256 of everything that changes the result (source,
 * build options, device, driver). Lives in {@code SALVO_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/salvo}, else {@code ~/.cache/salvo}. Writes are atomic (temp file, then
 * rename), so a crash never leaves a half-written entry; an unreadable entry is rebuilt.
 */
public final class CompileCache {

    private final Path dir;

    public CompileCache(String provider) {
        this.dir = root().resolve(provider);
    }

    public static Path root() {
        String d = System.getProperty("salvo.cacheDir", System.getenv("SALVO_CACHE_DIR"));
        if (d != null && !d.isBlank()) {
            return Path.of(d);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank()) {
            return Path.of(xdg, "salvo");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "salvo");
    }

    public Path dir() {
        return dir;
    }

    /** The cache key of the given parts. */
    public static String key(String... parts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String p : parts) {
                md.update(p.getBytes(StandardCharsets.UTF_8));
                md.update((byte) 0);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The cached bytes, or null when absent or unreadable. */
    public byte[] get(String key, String suffix) {
        Path f = dir.resolve(key + suffix);
        try {
            return Files.isRegularFile(f) ? Files.readAllBytes(f) : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Stores bytes; a cache that cannot be written is not an error (the next start rebuilds). */
    public boolean put(String key, String suffix, byte[] data) {
        try {
            Files.createDirectories(dir);
            Path tmp = Files.createTempFile(dir, key, ".tmp");
            Files.write(tmp, data);
            try {
                Files.move(tmp, dir.resolve(key + suffix), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, dir.resolve(key + suffix), StandardCopyOption.REPLACE_EXISTING);
            }
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
