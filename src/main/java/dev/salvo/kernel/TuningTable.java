package dev.salvo.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A per-device tuning table of native-config ({@code opencl-tuning.csv}, {@code cuda-tuning.csv}):
 * rows {@code device-name glob, matmul.tile, wg.elementwise, wg.rows, sum.wg}; the first row whose
 * glob matches the device name wins, the {@code *} row is the default for unknown devices.
 */
public final class TuningTable {

    /** Launch shapes for one device and the table row they came from. */
    public record Tuning(int tile, int wgElementwise, int wgRows, int sumWg, String row) {
    }

    private static final String DEFAULT_ROW = "*,16,256,64,256";

    private TuningTable() {
    }

    public static Tuning lookup(String file, String deviceName) {
        String chosen = DEFAULT_ROW;
        for (String line : lines(file)) {
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] cells = t.split(",");
            if (cells.length != 5) {
                throw new IllegalArgumentException(NativeConfig.describe(file) + ": row '" + t + "' has " + cells.length
                        + " columns, expected 5 (device, matmul.tile, wg.elementwise, wg.rows, sum.wg)");
            }
            if (glob(cells[0].trim()).matcher(deviceName).matches()) {
                chosen = t;
                break;
            }
        }
        String[] cells = chosen.split(",");
        int[] v = new int[4];
        for (int i = 0; i < 4; i++) {
            try {
                v[i] = Integer.parseInt(cells[i + 1].trim());
            } catch (NumberFormatException e) {
                v[i] = -1;
            }
            if (v[i] < 1) {
                throw new IllegalArgumentException(NativeConfig.describe(file) + ": row '" + chosen + "': column " + (i + 2)
                        + " must be a positive integer");
            }
        }
        if (Integer.bitCount(v[3]) != 1) {
            throw new IllegalArgumentException(NativeConfig.describe(file) + ": row '" + chosen
                    + "': sum.wg must be a power of two, got " + v[3]);
        }
        return new Tuning(v[0], v[1], v[2], v[3], chosen);
    }

    private static Pattern glob(String g) {
        StringBuilder sb = new StringBuilder();
        for (char c : g.toCharArray()) {
            sb.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(sb.toString());
    }

    private static List<String> lines(String file) {
        Path dir = NativeConfig.overrideDir();
        try {
            if (dir != null) {
                Path f = dir.resolve(file);
                return Files.isRegularFile(f) ? Files.readAllLines(f, StandardCharsets.UTF_8) : List.of();
            }
            try (InputStream in = TuningTable.class.getResourceAsStream("/salvo/native-config/" + file)) {
                return in == null ? List.of() : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + NativeConfig.describe(file) + ": " + e.getMessage(), e);
        }
    }
}
