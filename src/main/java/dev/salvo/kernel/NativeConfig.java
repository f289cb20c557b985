package dev.salvo.kernel;

import dev.salvo.util.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * Reads the files of {@code native-config/}: from the directory named by
 * {@code SALVO_NATIVE_CONFIG} (or {@code -Dsalvo.nativeConfig}) when set, else from the copy in
 * the jar ({@code salvo/native-config/}). Files are Java properties; a key {@code k} may be
 * overridden per run with the system property {@code salvo.<file stem>.<k>}.
 */
public final class NativeConfig {

    private NativeConfig() {
    }

    /** The files Salvo reads from native-config. */
    public static final List<String> FILES = List.of("cpu.properties", "opencl.properties", "cuda.properties",
            "opencl-tuning.csv", "cuda-tuning.csv");

    /**
     * The override directory, or null when the jar's copy is used.
     *
     * @throws IllegalArgumentException naming the variable and the path when it is set to
     *                                  something that is not a directory
     */
    public static Path overrideDir() {
        String dir = System.getProperty("salvo.nativeConfig", System.getenv("SALVO_NATIVE_CONFIG"));
        return dir == null || dir.isBlank() ? null : InputFiles.requireDirectory(overrideName(), Path.of(dir));
    }

    /** Where the override directory comes from, for messages: {@code -Dsalvo.nativeConfig} or {@code SALVO_NATIVE_CONFIG}. */
    public static String overrideName() {
        return System.getProperty("salvo.nativeConfig") != null ? "-Dsalvo.nativeConfig" : "SALVO_NATIVE_CONFIG";
    }

    /**
     * The text of {@code file} in the override directory, or null when there is no override
     * directory or it lacks the file.
     *
     * @throws IllegalArgumentException when the file is there but cannot be read or is not UTF-8 text
     */
    public static String overrideText(String file) {
        Path dir = overrideDir();
        if (dir == null || !Files.exists(dir.resolve(file))) {
            return null;
        }
        return InputFiles.readText(overrideName(), dir.resolve(file));
    }

    /**
     * Checks the override directory and every file of {@link #FILES} in it: a directory, and
     * readable UTF-8 text (their contents are checked when they are used).
     *
     * @throws IllegalArgumentException one line naming the variable or the file
     */
    public static void checkOverride() {
        for (String f : FILES) {
            overrideText(f);
        }
    }

    /** Where a file is read from, for messages. */
    public static String describe(String file) {
        Path dir = overrideDir();
        return dir != null ? dir.resolve(file).toString() : "classpath:salvo/native-config/" + file;
    }

    /** Loads {@code file} (for example {@code cpu.properties}); a missing file gives empty properties. */
    public static Properties load(String file) {
        Properties p = new Properties();
        Path dir = overrideDir();
        try {
            if (dir != null) {
                String text = overrideText(file);
                if (text != null) {
                    p.load(new StringReader(text));
                }
            } else {
                try (InputStream in = NativeConfig.class.getResourceAsStream("/salvo/native-config/" + file)) {
                    if (in != null) {
                        p.load(in);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read native-config file " + describe(file) + ": " + e.getMessage(), e);
        }
        String prefix = "salvo." + file.replaceFirst("\\.properties$", "") + ".";
        for (String k : System.getProperties().stringPropertyNames()) {
            if (k.startsWith(prefix)) {
                p.setProperty(k.substring(prefix.length()), System.getProperty(k));
            }
        }
        return p;
    }

    /** An integer key, checked to be at least {@code min}; absent or "auto" gives {@code fallback}. */
    public static int intValue(Properties p, String file, String key, int fallback, int min) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank() || v.trim().equals("auto")) {
            return fallback;
        }
        try {
            int x = Integer.parseInt(v.trim());
            if (x >= min) {
                return x;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(describe(file) + ": key '" + key + "' must be an integer >= " + min
                + " or 'auto', got '" + v + "'");
    }

    /** A boolean key ({@code true}/{@code false}); absent gives {@code fallback}. */
    public static boolean boolValue(Properties p, String file, String key, boolean fallback) {
        String v = p.getProperty(key);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return switch (v.trim()) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new IllegalArgumentException(describe(file) + ": key '" + key
                    + "' must be true or false, got '" + v + "'");
        };
    }
}
