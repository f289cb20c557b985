package dev.salvo.cli;

import dev.salvo.data.Csv;
import dev.salvo.data.Dataset;
import dev.salvo.data.Digits;
import dev.salvo.data.StandardDatasets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The {@code --data} option: {@code digits} (embedded), {@code fashion-mnist} and {@code mnist}
 * (IDX files in {@code --data-dir}, else {@code /usr/share/datasets/<name>}), or a CSV file
 * ({@code csv:PATH}, or any path ending in .csv / .csv.gz) split into train and test.
 */
final class DataSource {

    /** Train and test splits and a line saying where they came from. */
    record Loaded(String name, Dataset train, Dataset test, String origin) {
    }

    static final String EXPECTED = "digits, fashion-mnist, mnist or csv:PATH";

    private DataSource() {
    }

    /** The CSV file {@code data} names ({@code csv:PATH}, or a path ending in .csv / .csv.gz), or null for the built-in datasets. */
    static Path csvFile(String data) {
        String d = data.trim();
        if (d.startsWith("csv:")) {
            return Path.of(d.substring(4));
        }
        return d.endsWith(".csv") || d.endsWith(".csv.gz") ? Path.of(d) : null;
    }

    /** SHA-256 (lower-case hex) of a file's bytes. */
    static String sha256(Path file) {
        try (java.io.InputStream in = Files.newInputStream(file)) {
            java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static Loaded load(String data, Path dataDir, String labelColumn, Boolean header, double testFraction, long seed) {
        String d = data.trim();
        switch (d) {
            case "digits" -> {
                Dataset.Split s = Digits.trainTest();
                return new Loaded(d, s.first(), s.second(), "embedded UCI digits, fixed stratified 80/20 split");
            }
            case "fashion-mnist", "mnist" -> {
                Dataset.Split s = StandardDatasets.load(d, dataDir);
                return new Loaded(d, s.first(), s.second(), "IDX files in " + StandardDatasets.resolvedDir(d, dataDir)
                        + ", standard 60000/10000 split, pixels scaled to [0,1]");
            }
            default -> {
                String path = d.startsWith("csv:") ? d.substring(4) : d;
                if (!d.startsWith("csv:") && !(path.endsWith(".csv") || path.endsWith(".csv.gz"))) {
                    throw new IllegalArgumentException("--data: unknown dataset '" + data + "' (expected " + EXPECTED + ")");
                }
                Path file = Path.of(path);
                if (!Files.isRegularFile(file)) {
                    throw new IllegalArgumentException("--data: no such file " + file);
                }
                if (!(testFraction > 0 && testFraction < 1)) {
                    throw new IllegalArgumentException("--test-fraction must be in (0, 1), got " + testFraction);
                }
                Dataset all = Csv.read(file, new Csv.Options(header, labelColumn, ','));
                Dataset.Split s = all.stratifiedSplit(testFraction, seed, all.name() + "-train", all.name() + "-test");
                return new Loaded(file.getFileName().toString(), s.first(), s.second(),
                        "CSV " + file + ", stratified " + Math.round(100 * (1 - testFraction)) + "/" + Math.round(100 * testFraction)
                                + " split (seed " + seed + ")");
            }
        }
    }
}
