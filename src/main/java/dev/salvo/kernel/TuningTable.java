package dev.salvo.kernel;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A per-device tuning table of native-config ({@code opencl-tuning.csv}, {@code cuda-tuning.csv}).
 * The first line that is not blank or a {@code #} comment is the header: {@code device} followed by
 * column names from {@link #COLUMNS} in any order; a column the header leaves out takes its built-in
 * default ({@link Tuning#DEFAULT}). A file without a header (its first cell is not {@code device})
 * has the five columns of the first format: {@code device, matmul.tile, wg.elementwise, wg.rows,
 * sum.wg}. Every other line is a row: a device-name glob ({@code *} any characters, {@code ?} one)
 * and one integer per column. The first row whose glob matches the device name wins; the {@code *}
 * row is the default for unknown devices. Every row is checked when the file is read; a malformed
 * row is an error naming the file, the line and the column.
 */
public final class TuningTable {

    /** Column names in their canonical order, after {@code device}. */
    public static final List<String> COLUMNS = List.of("matmul.local", "matmul.tile", "matmul.wgx", "matmul.wgy",
            "matmul.vw", "matmul.wptm", "matmul.wptn", "matmul.dotm", "matmul.dotn", "wg.elementwise", "wg.rows", "sum.wg",
            "colsum.vw", "ew.vw");

    private static final List<String> LEGACY = List.of("matmul.tile", "wg.elementwise", "wg.rows", "sum.wg");

    /** The launch shapes and tunables for one device and the table row they came from. */
    public record Tuning(int mmLocal, int tile, int mmWgx, int mmWgy, int mmVw, int mmWptm, int mmWptn, int mmDotm,
                         int mmDotn, int wgElementwise, int wgRows, int sumWg, int colsumVw, int ewVw, String row)
            implements dev.salvo.device.Op.Launch {

        /** The built-in default: local-memory matmul tiles, safe on any GPU and any OpenCL 1.2 device. */
        public static final Tuning DEFAULT = new Tuning(1, 16, 4, 4, 16, 4, 32, 4, 4, 256, 64, 256, 1, 1, "built-in default");

        public Tuning {
            int[] v = {mmLocal, tile, mmWgx, mmWgy, mmVw, mmWptm, mmWptn, mmDotm, mmDotn, wgElementwise, wgRows, sumWg, colsumVw, ewVw};
            String p = check(v);
            if (p != null) {
                throw new IllegalArgumentException(p);
            }
        }

        /** The values in the order of {@link #COLUMNS}. */
        public int[] values() {
            return new int[] {mmLocal, tile, mmWgx, mmWgy, mmVw, mmWptm, mmWptn, mmDotm, mmDotn, wgElementwise, wgRows, sumWg,
                    colsumVw, ewVw};
        }

        /** The value of one column. */
        public int get(String column) {
            int i = COLUMNS.indexOf(column);
            if (i < 0) {
                throw new IllegalArgumentException("unknown tuning column '" + column + "' (known: " + String.join(", ", COLUMNS) + ")");
            }
            return values()[i];
        }

        /** A copy with one column changed. */
        public Tuning with(String column, int value) {
            int i = COLUMNS.indexOf(column);
            if (i < 0) {
                throw new IllegalArgumentException("unknown tuning column '" + column + "' (known: " + String.join(", ", COLUMNS) + ")");
            }
            int[] v = values();
            v[i] = value;
            return of(v, row);
        }

        /** A copy with another row text. */
        public Tuning withRow(String rowText) {
            return of(values(), rowText);
        }

        static Tuning of(int[] v, String row) {
            return new Tuning(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], row);
        }

        /** Largest work-group (threads per block) any kernel is launched with. */
        public int maxWorkGroup() {
            int mm = mmLocal == 2 ? 256 : mmLocal == 1 ? tile * tile : mmWgx * mmWgy;
            return Math.max(Math.max(mm, wgElementwise), Math.max(wgRows, sumWg));
        }

        /** The tunables as {@code #define}s for every kernel unit. */
        public Map<String, String> defines() {
            Map<String, String> d = new LinkedHashMap<>();
            d.put("MM_LOCAL", Integer.toString(mmLocal));
            d.put("TILE", Integer.toString(tile));
            d.put("MM_WGX", Integer.toString(mmWgx));
            d.put("MM_WGY", Integer.toString(mmWgy));
            d.put("MM_VW", Integer.toString(mmVw));
            d.put("MM_WPTM", Integer.toString(mmWptm));
            d.put("MM_WPTN", Integer.toString(mmWptn));
            d.put("MM_DOTM", Integer.toString(mmDotm));
            d.put("MM_DOTN", Integer.toString(mmDotn));
            d.put("SUM_WG", Integer.toString(sumWg));
            d.put("COLSUM_VW", Integer.toString(colsumVw));
            d.put("EW_VW", Integer.toString(ewVw));
            return d;
        }

        /**
         * These tunables with {@link dev.salvo.device.Op.Launch#tensorCores()} true: what a CUDA
         * device with {@code matmul.tf32=true} launches the declared ops with.
         */
        public dev.salvo.device.Op.Launch withTensorCores() {
            return new TensorCores(this);
        }

        /** The values as a CSV row for {@code glob}, in the order of {@link #COLUMNS}. */
        public String csv(String glob) {
            StringBuilder sb = new StringBuilder(glob);
            for (int x : values()) {
                sb.append(',').append(x);
            }
            return sb.toString();
        }
    }

    private TuningTable() {
    }

    /** A tuning row with tensor cores allowed ({@link Tuning#withTensorCores()}). */
    private record TensorCores(Tuning t) implements dev.salvo.device.Op.Launch {
        @Override
        public int wgElementwise() {
            return t.wgElementwise();
        }

        @Override
        public int wgRows() {
            return t.wgRows();
        }

        @Override
        public int sumWg() {
            return t.sumWg();
        }

        @Override
        public int colsumVw() {
            return t.colsumVw();
        }

        @Override
        public int ewVw() {
            return t.ewVw();
        }

        @Override
        public int mmLocal() {
            return t.mmLocal();
        }

        @Override
        public int tile() {
            return t.tile();
        }

        @Override
        public int mmWgx() {
            return t.mmWgx();
        }

        @Override
        public int mmWgy() {
            return t.mmWgy();
        }

        @Override
        public int mmWptm() {
            return t.mmWptm();
        }

        @Override
        public int mmWptn() {
            return t.mmWptn();
        }

        @Override
        public int mmDotm() {
            return t.mmDotm();
        }

        @Override
        public int mmDotn() {
            return t.mmDotn();
        }

        @Override
        public boolean tensorCores() {
            return true;
        }
    }

    /** What is wrong with these values (in the order of {@link #COLUMNS}), or null. */
    static String check(int[] v) {
        for (int i = 0; i < v.length; i++) {
            int min = i == 0 ? 0 : 1;
            if (v[i] < min) {
                return COLUMNS.get(i) + " must be " + (min == 0 ? "0, 1 or 2" : "a positive integer") + ", got " + v[i];
            }
        }
        if (v[0] > 2) {
            return "matmul.local must be 0, 1 or 2, got " + v[0];
        }
        if (v[4] != 1 && v[4] != 2 && v[4] != 4 && v[4] != 8 && v[4] != 16) {
            return "matmul.vw must be 1, 2, 4, 8 or 16, got " + v[4];
        }
        if (v[6] % v[4] != 0) {
            return "matmul.wptn (" + v[6] + ") must be a multiple of matmul.vw (" + v[4] + ")";
        }
        if (v[5] > 16 || v[6] > 64 || v[7] > 8 || v[8] > 8) {
            return "matmul register blocks too large (wptm <= 16, wptn <= 64, dotm <= 8, dotn <= 8), got wptm " + v[5]
                    + ", wptn " + v[6] + ", dotm " + v[7] + ", dotn " + v[8];
        }
        if (Integer.bitCount(v[11]) != 1) {
            return "sum.wg must be a power of two, got " + v[11];
        }
        if (v[12] != 1 && v[12] != 2 && v[12] != 4 && v[12] != 8 && v[12] != 16) {
            return "colsum.vw must be 1, 2, 4, 8 or 16, got " + v[12];
        }
        if (v[13] != 1 && v[13] != 2 && v[13] != 4 && v[13] != 8 && v[13] != 16) {
            return "ew.vw must be 1, 2, 4, 8 or 16, got " + v[13];
        }
        return null;
    }

    /** The tuning for {@code deviceName} from {@code file} (the jar's copy or the native-config override directory). */
    public static Tuning lookup(String file, String deviceName) {
        for (Row r : parse(NativeConfig.describe(file), lines(file))) {
            if (glob(r.glob()).matcher(deviceName).matches()) {
                return r.tuning();
            }
        }
        return Tuning.DEFAULT;
    }

    /** One parsed row. */
    public record Row(String glob, Tuning tuning) {
    }

    /** Parses a whole table; {@code where} names the file in messages. */
    public static List<Row> parse(String where, List<String> lines) {
        List<String> header = null;
        List<Row> rows = new ArrayList<>();
        for (int ln = 0; ln < lines.size(); ln++) {
            String t = lines.get(ln).strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] cells = t.split(",", -1);
            for (int i = 0; i < cells.length; i++) {
                cells[i] = cells[i].trim();
            }
            String at = where + " line " + (ln + 1);
            if (header == null) {
                if (cells[0].equals("device")) {
                    header = new ArrayList<>(Arrays.asList(cells).subList(1, cells.length));
                    for (String h : header) {
                        if (!COLUMNS.contains(h)) {
                            throw new IllegalArgumentException(at + ": unknown column '" + h + "' in the header (known: "
                                    + String.join(", ", COLUMNS) + ")");
                        }
                        if (header.indexOf(h) != header.lastIndexOf(h)) {
                            throw new IllegalArgumentException(at + ": column '" + h + "' appears twice in the header");
                        }
                    }
                    continue;
                }
                header = LEGACY;
            }
            if (cells.length != header.size() + 1) {
                throw new IllegalArgumentException(at + ": row '" + t + "' has " + cells.length + " columns, expected "
                        + (header.size() + 1) + " (device, " + String.join(", ", header) + ")");
            }
            if (cells[0].isEmpty()) {
                throw new IllegalArgumentException(at + ": row '" + t + "' has an empty device glob");
            }
            int[] v = Tuning.DEFAULT.values();
            for (int i = 0; i < header.size(); i++) {
                int x;
                try {
                    x = Integer.parseInt(cells[i + 1]);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(at + ": column " + header.get(i) + " must be an integer, got '"
                            + cells[i + 1] + "'");
                }
                v[COLUMNS.indexOf(header.get(i))] = x;
            }
            String problem = check(v);
            if (problem != null) {
                throw new IllegalArgumentException(at + ": row '" + t + "': " + problem);
            }
            rows.add(new Row(cells[0], Tuning.of(v, t)));
        }
        return rows;
    }

    /** The header line of the current format. */
    public static String header() {
        return "device," + String.join(",", COLUMNS);
    }

    static Pattern glob(String g) {
        StringBuilder sb = new StringBuilder();
        for (char c : g.toCharArray()) {
            sb.append(c == '*' ? ".*" : c == '?' ? "." : Pattern.quote(String.valueOf(c)));
        }
        return Pattern.compile(sb.toString());
    }

    /** The lines of {@code file}: the override directory's copy when it is set, else the jar's. */
    public static List<String> lines(String file) {
        Path dir = NativeConfig.overrideDir();
        try {
            if (dir != null) {
                String text = NativeConfig.overrideText(file);
                return text == null ? List.of() : text.lines().toList();
            }
            try (InputStream in = TuningTable.class.getResourceAsStream("/salvo/native-config/" + file)) {
                return in == null ? List.of() : new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + NativeConfig.describe(file) + ": " + e.getMessage(), e);
        }
    }

    /**
     * {@code lines} (a table in any accepted format) with the row for {@code glob} replaced by (or,
     * when there is none, inserted before the first row matching everything, else appended as)
     * {@code tuning}; comments are kept, the header is rewritten to the current format and every
     * other row is rewritten to it with its own values.
     */
    public static List<String> withRow(String where, List<String> lines, String glob, Tuning tuning) {
        List<Row> rows = parse(where, lines);
        List<String> out = new ArrayList<>();
        for (String l : lines) {
            String t = l.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                out.add(l);
            } else {
                break;
            }
        }
        out.add(header());
        boolean placed = false;
        for (Row r : rows) {
            if (r.glob().equals(glob)) {
                if (!placed) {
                    out.add(tuning.csv(glob));
                    placed = true;
                }
                continue;
            }
            if (!placed && r.glob().equals("*")) {
                out.add(tuning.csv(glob));
                placed = true;
            }
            out.add(r.tuning().csv(r.glob()));
        }
        if (!placed) {
            out.add(tuning.csv(glob));
        }
        if (rows.stream().noneMatch(r -> r.glob().equals("*"))) {
            out.add(Tuning.DEFAULT.csv("*"));
        }
        return out;
    }
}
