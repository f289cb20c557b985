package dev.salvo.device.opencl;

import dev.salvo.kernel.NativeConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * The OpenCL provider's build options ({@code native-config/opencl.properties}) and launch shapes
 * for one device from the tuning table {@code native-config/opencl-tuning.csv} (first row whose
 * device-name glob matches; the {@code *} row is the default).
 */
record OpenClSettings(String buildOptions, boolean cache, int tile, int wgElementwise, int wgRows, int sumWg,
                      String tuningRow) {

    static final String FILE = "opencl.properties";
    static final String TUNING = "opencl-tuning.csv";

    static OpenClSettings load(String deviceName) {
        Properties p = NativeConfig.load(FILE);
        String options = p.getProperty("build.options", "-cl-std=CL1.2").trim();
        boolean cache = NativeConfig.boolValue(p, FILE, "cache", true);
        String[] row = tuningRow(deviceName);
        int[] v = new int[4];
        for (int i = 0; i < 4; i++) {
            try {
                v[i] = Integer.parseInt(row[i + 1].trim());
            } catch (NumberFormatException e) {
                v[i] = -1;
            }
            if (v[i] < 1) {
                throw new IllegalArgumentException(NativeConfig.describe(TUNING) + ": row '" + String.join(",", row)
                        + "': column " + (i + 2) + " must be a positive integer");
            }
        }
        if (Integer.bitCount(v[3]) != 1) {
            throw new IllegalArgumentException(NativeConfig.describe(TUNING) + ": row '" + String.join(",", row)
                    + "': sum.wg must be a power of two, got " + v[3]);
        }
        int tile = NativeConfig.intValue(p, FILE, "matmul.tile", v[0], 1);
        return new OpenClSettings(options, cache, tile, v[1], v[2], v[3], String.join(",", row).trim());
    }

    /** The first row of the tuning table matching {@code deviceName}. */
    static String[] tuningRow(String deviceName) {
        for (String line : tuningLines()) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] cells = t.split(",");
            if (cells.length != 5) {
                throw new IllegalArgumentException(NativeConfig.describe(TUNING) + ": row '" + t
                        + "' has " + cells.length + " columns, expected 5 (device, matmul.tile, wg.elementwise, wg.rows, sum.wg)");
            }
            if (glob(cells[0].trim()).matcher(deviceName).matches()) {
                return cells;
            }
        }
        return new String[] {"*", "16", "256", "64", "256"};
    }

    private static Pattern glob(String g) {
        StringBuilder sb = new StringBuilder();
        for (char c : g.toCharArray()) {
            sb.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(sb.toString());
    }

    private static List<String> tuningLines() {
        Path dir = NativeConfig.overrideDir();
        try {
            if (dir != null) {
                Path f = dir.resolve(TUNING);
                return Files.isRegularFile(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
            }
            try (InputStream in = OpenClSettings.class.getResourceAsStream("/salvo/native-config/" + TUNING)) {
                return in == null ? List.of() : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + NativeConfig.describe(TUNING) + ": " + e.getMessage(), e);
        }
    }
}
