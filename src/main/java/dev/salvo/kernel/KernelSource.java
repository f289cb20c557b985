package dev.salvo.kernel;

import dev.salvo.util.InputFiles;
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

    /**
     * The override directory, or null.
     *
     * @throws IllegalArgumentException naming the variable and the path when it is set to
     *                                  something that is not a directory
     */
    public static Path overrideDir() {
        String dir = System.getProperty("salvo.kernels", System.getenv("SALVO_KERNELS"));
        return dir == null || dir.isBlank() ? null : InputFiles.requireDirectory(overrideName(), Path.of(dir));
    }

    /** Where the override directory comes from, for messages: {@code -Dsalvo.kernels} or {@code SALVO_KERNELS}. */
    public static String overrideName() {
        return System.getProperty("salvo.kernels") != null ? "-Dsalvo.kernels" : "SALVO_KERNELS";
    }

    /** Where {@code file} is read from, for messages. */
    public static String locate(String file) {
        Path dir = overrideDir();
        if (dir != null && Files.exists(dir.resolve(file))) {
            return dir.resolve(file).toString();
        }
        return "classpath:salvo/kernels/" + file;
    }

    /**
     * The text of one kernel file.
     *
     * @throws IllegalArgumentException when the override directory has the file but it cannot be
     *                                  read or is not UTF-8 text (one line naming the file)
     */
    public static String read(String file) {
        Path dir = overrideDir();
        try {
            if (dir != null && Files.exists(dir.resolve(file))) {
                return InputFiles.readText(overrideName(), dir.resolve(file));
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
