package dev.salvo.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The override directory, or null when the jar's copy is used. */
    public static Path overrideDir() {
        String dir = System.getProperty("salvo.nativeConfig", System.getenv("SALVO_NATIVE_CONFIG"));
        return dir == null || dir.isBlank() ? null : Path.of(dir);
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
                Path f = dir.resolve(file);
                if (Files.isRegularFile(f)) {
                    try (Reader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
                        p.load(r);
                    }
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
