package dev.salvo.cli;

import dev.salvo.data.Csv;
import dev.salvo.data.Dataset;
import dev.salvo.data.Digits;
import dev.salvo.data.InputTransform;
import dev.salvo.data.Normalization;
import dev.salvo.data.StandardDatasets;
import dev.salvo.util.InputFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@code --data} option: {@code digits} (embedded), {@code fashion-mnist} and {@code mnist}
 * (IDX files in {@code --data-dir}, else {@code /usr/share/datasets/<name>}), or a CSV file
 * ({@code csv:PATH}, or any path ending in .csv / .csv.gz) split into train and test.
 *
 * <p>A Java heap too small for the dataset is bad input (exit 2): the message says how many rows
 * and features the files declare, about how much heap that needs and how to give the JVM more
 * ({@code SALVO_JAVA_OPTS=-Xmx...}).
 */
final class DataSource {

    /** Train and test splits and a line saying where they came from. */
    record Loaded(String name, Dataset train, Dataset test, String origin) {
    }

    /**
     * What training uses: the source's name and origin (without its datasets, so they can be
     * collected), the training, validation and test sets with the input transform applied, and
     * that transform (fitted on the training split).
     */
    record Prepared(Loaded source, Dataset train, Dataset val, Dataset test, InputTransform transform) {
    }

    static final String EXPECTED = "digits, fashion-mnist, mnist or csv:PATH";

    /** Heap a JVM uses besides the data (classes, the model and buffers of a small run), for estimates. */
    private static final long BASE_HEAP = 64L << 20;

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
        return load(data, dataDir, labelColumn, header, testFraction, seed, 2);
    }

    /**
     * Loads {@code data}, holds out {@code valFraction} of its training rows for validation and
     * applies the normalisation fitted on the rest.
     */
    static Prepared prepare(String data, Path dataDir, String labelColumn, Boolean header, double testFraction, long seed,
                            double valFraction, String normalize) {
        Normalization norm = Normalization.parse(normalize);
        // the data as read and the split copy of its training rows (and a normalised copy of everything)
        int copies = norm == Normalization.NONE ? 2 : 3;
        try {
            Loaded source = load(data, dataDir, labelColumn, header, testFraction, seed, copies);
            Dataset.Split trainVal = source.train().stratifiedSplit(valFraction, seed, source.name() + "-train", source.name() + "-val");
            InputTransform transform = norm.fit(trainVal.first());
            return new Prepared(new Loaded(source.name(), null, null, source.origin()), transform.apply(trainVal.first()),
                    transform.apply(trainVal.second()), transform.apply(source.test()), transform);
        } catch (OutOfMemoryError e) {
            throw heapTooSmall(data, dataDir, copies);
        }
    }

    private static Loaded load(String data, Path dataDir, String labelColumn, Boolean header, double testFraction, long seed,
                               int copies) {
        try {
            return read(data, dataDir, labelColumn, header, testFraction, seed);
        } catch (OutOfMemoryError e) {
            throw heapTooSmall(data, dataDir, copies);
        }
    }

    private static Loaded read(String data, Path dataDir, String labelColumn, Boolean header, double testFraction, long seed) {
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
                Path file = csvPath(data);
                if (file == null) {
                    throw new IllegalArgumentException("--data: unknown dataset '" + data + "' (expected " + EXPECTED + ")");
                }
                InputFiles.requireFile("--data", file);
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

    /** The CSV file {@code --data} names ({@code csv:PATH} or a path ending in .csv / .csv.gz), or null. */
    private static Path csvPath(String data) {
        String d = data.trim();
        String path = d.startsWith("csv:") ? d.substring(4) : d;
        return d.startsWith("csv:") || path.endsWith(".csv") || path.endsWith(".csv.gz") ? Path.of(path) : null;
    }

    /**
     * The error for a dataset that does not fit in the Java heap: rows and features as the files
     * declare them (IDX headers; a count of the CSV's lines), about how much heap {@code copies}
     * float32 copies of it need, the heap this JVM has, and how to raise it.
     */
    static IllegalArgumentException heapTooSmall(String data, Path dataDir, int copies) {
        return heapTooSmall("--data", data, shape(data, dataDir), true, copies);
    }

    /**
     * The error for input that does not fit in the Java heap, one line: {@code option: what (rows
     * of features, MB as float32) needs about N MB of Java heap, and this JVM has M MB: raise it,
     * e.g. SALVO_JAVA_OPTS=-Xmx...}.
     *
     * @param shape  {rows, features, 1 when estimated}, or null when unknown
     * @param labels whether each row also holds a label
     * @param copies how many float32 copies of the data the command holds at once
     */
    static IllegalArgumentException heapTooSmall(String option, String what, long[] shape, boolean labels, int copies) {
        long max = Runtime.getRuntime().maxMemory();
        String says;
        long need;
        if (shape != null) {
            long bytes = 4 * shape[0] * (shape[1] + (labels ? 1 : 0));
            need = copies * bytes + BASE_HEAP;
            says = String.format(Locale.ROOT, "%s (%s%d rows of %d features, %d MB as float32) needs about %d MB of Java heap",
                    what, shape[2] == 0 ? "" : "about ", shape[0], shape[1], mb(bytes), mb(need));
        } else {
            need = 2 * max;
            says = what + " needs more Java heap";
        }
        return new IllegalArgumentException(String.format(Locale.ROOT, "%s: %s, and this JVM has %d MB: raise it, e.g. "
                + "SALVO_JAVA_OPTS=-Xmx%s (the salvo script passes it to java)", option, says, mb(max), suggestedHeap(need)));
    }

    private static long mb(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    /** A round -Xmx value a quarter above {@code need}: 256m, 512m, 1g, 2g, ... */
    static String suggestedHeap(long need) {
        long m = 256;
        while (m << 20 < need + need / 4) {
            m *= 2;
        }
        return m < 1024 ? m + "m" : (m / 1024) + "g";
    }

    /** {rows, features, 1 when estimated} of a dataset from its file headers, or null when unknown. */
    private static long[] shape(String data, Path dataDir) {
        String d = data.trim();
        try {
            if (StandardDatasets.isKnown(d)) {
                return StandardDatasets.shape(d, dataDir);
            }
            Path csv = csvPath(d);
            if (csv != null && Files.isRegularFile(csv)) {
                long[] rc = Csv.countLines(csv);
                return rc == null ? null : new long[] {rc[0], Math.max(0, rc[1] - 1), 1};
            }
        } catch (RuntimeException e) {
            // no estimate
        }
        return null;
    }
}
