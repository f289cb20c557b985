package dev.salvo.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Finds kernel source: in the directory named by {@code SALVO_KERNELS} (or {@code -Dsalvo.kernels})
 * when set, file by file, falling back to the copy of {@code kernels/} in the jar
 * ({@code salvo/kernels/}) for files the directory does not have, so a user can drop in one tuned
 * kernel. Composes a compilable unit: tunable {@code #define}s, the provider's prelude, the shared
 * helpers and the family file, each marked with {@code #line} so compiler messages name the file.
 */
public final class KernelSource {

    private KernelSource() {
    }

    /** The override directory, or null. */
    public static Path overrideDir() {
        String dir = System.getProperty("salvo.kernels", System.getenv("SALVO_KERNELS"));
        return dir == null || dir.isBlank() ? null : Path.of(dir);
    }

    /** Where {@code file} is read from, for messages. */
    public static String locate(String file) {
        Path dir = overrideDir();
        if (dir != null && Files.isRegularFile(dir.resolve(file))) {
            return dir.resolve(file).toString();
        }
        return "classpath:salvo/kernels/" + file;
    }

    /** The text of one kernel file. */
    public static String read(String file) {
        Path dir = overrideDir();
        try {
            if (dir != null && Files.isRegularFile(dir.resolve(file))) {
                return Files.readString(dir.resolve(file), StandardCharsets.UTF_8);
            }
            try (InputStream in = KernelSource.class.getResourceAsStream("/salvo/kernels/" + file)) {
                if (in == null) {
                    throw new IllegalStateException("kernel file " + file + " not found (looked in "
                            + (dir == null ? "" : dir + " and ") + "classpath:salvo/kernels/)");
                }
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel file " + locate(file) + ": " + e.getMessage(), e);
        }
    }

    /**
     * One compilation unit: {@code defines} (tunables, emitted as {@code #define K V}), then
     * {@code prelude}, {@code common.kernel} and {@code file}.
     */
    public static String unit(String prelude, String file, Map<String, String> defines) {
        StringBuilder sb = new StringBuilder();
        defines.forEach((k, v) -> sb.append("#define ").append(k).append(' ').append(v).append('\n'));
        sb.append("#line 1 \"").append(prelude).append("\"\n").append(read(prelude)).append('\n');
        sb.append("#line 1 \"common.kernel\"\n").append(read("common.kernel")).append('\n');
        sb.append("#line 1 \"").append(file).append("\"\n").append(read(file)).append('\n');
        return sb.toString();
    }
}
