package dev.salvo.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Reader for a classification table in CSV form: every column but one is a numeric feature, the
 * remaining column holds integer class labels {@code >= 0}. The class count is the largest label
 * plus one.
 *
 * <p>The format accepted:
 * <ul>
 *   <li>UTF-8 text (a leading byte-order mark is skipped), lines ended by {@code \n}, {@code \r\n}
 *       or {@code \r}; gzip-compressed files are recognised by their magic bytes {@code 1f 8b};</li>
 *   <li>blank lines (only whitespace) are skipped anywhere;</li>
 *   <li>cells are separated by {@link Options#separator()} and trimmed of spaces and tabs;</li>
 *   <li>a cell may be quoted: {@code "..."} with {@code ""} standing for one quote; a quoted cell
 *       cannot span lines;</li>
 *   <li>an optional header row of column names, detected when not given (see {@link Options});</li>
 *   <li>features parse as decimal numbers ({@code 1}, {@code -2.5}, {@code 3e-4}) and are stored as
 *       float; NaN, infinities, values beyond the float range and empty cells are rejected;</li>
 *   <li>labels are integers in {@code [0, }{@link #MAX_CLASSES}{@code )}, written as {@code 3} or
 *       {@code 3.0}.</li>
 * </ul>
 * Every violation gives a {@link DataFormatException} naming the line and, for a cell, the
 * 1-based column.
 */
public final class Csv {

    /** Labels must be below this; it bounds the class count a file can declare. */
    public static final int MAX_CLASSES = 100_000;

    private Csv() {
    }

    /**
     * How to read a CSV file.
     *
     * @param header      {@code TRUE}: the first non-blank line holds column names; {@code FALSE}: it is
     *                    data; {@code null}: auto-detect, a header when any cell of the first
     *                    non-blank line is not a number
     * @param labelColumn the label column, by header name or by 0-based index written as text
     *                    (a header name wins over an index); {@code null}: the last column
     * @param separator   the cell separator, usually {@code ','}
     * @param labelled    {@code false}: every column is a feature and the labels are all 0 (input for prediction)
     */
    public record Options(Boolean header, String labelColumn, char separator, boolean labelled) {

        public Options(Boolean header, String labelColumn, char separator) {
            this(header, labelColumn, separator, true);
        }

        public Options {
            if (separator == '"' || separator == '\n' || separator == '\r') {
                throw new IllegalArgumentException("CSV separator cannot be a quote or a line break");
            }
        }

        /** Auto-detected header, last column as label, comma-separated. */
        public static Options defaults() {
            return new Options(null, null, ',');
        }

        public Options withHeader(Boolean h) {
            return new Options(h, labelColumn, separator);
        }

        public Options withLabelColumn(String column) {
            return new Options(header, column, separator);
        }

        public Options withSeparator(char sep) {
            return new Options(header, labelColumn, sep);
        }
    }

    /**
     * Reads a CSV of feature columns only (header optional, detected), as prediction input: every
     * column is a feature, labels are 0. {@code width} is the number of columns the model expects.
     */
    public static Dataset readFeatures(Path file, int width) {
        Dataset d = read(file, new Options(null, null, ',', false));
        if (d.width() != width) {
            throw new DataFormatException(file, "line 1", d.width() + " columns, the model expects " + width + " features");
        }
        return d;
    }

    /** {@link #read(Path, Options)} with {@link Options#defaults()}. */
    public static Dataset read(Path file) {
        return read(file, Options.defaults());
    }

    /**
     * Reads a CSV file into a dataset named after the file.
     *
     * @throws DataFormatException  if the file is malformed (see the class comment)
     * @throws UncheckedIOException if the file cannot be read at all
     */
    public static Dataset read(Path file, Options opts) {
        if (opts == null) {
            opts = Options.defaults();
        }
        try (Input in = Input.open(file);
             BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 1 << 16)) {
            return new Parser(file, opts).parse(r);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /**
     * {non-blank lines, cells of the first non-blank line} of a CSV file (plain or gzip), counted
     * in one pass without keeping the data: for estimates such as the memory a dataset needs
     * (quoted separators are counted as cells). Null when the file cannot be read.
     */
    public static long[] countLines(Path file) {
        try (Input in = Input.open(file)) {
            byte[] buf = new byte[1 << 16];
            long lines = 0;
            long cells = 0;
            boolean blank = true;
            boolean first = true;
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                for (int i = 0; i < n; i++) {
                    byte b = buf[i];
                    if (b == '\n') {
                        if (!blank) {
                            lines++;
                            first = false;
                        }
                        blank = true;
                    } else if (b != '\r' && b != ' ' && b != '\t') {
                        if (blank && first) {
                            cells = 1;
                        }
                        blank = false;
                        if (b == ',' && first) {
                            cells++;
                        }
                    }
                }
            }
            if (!blank) {
                lines++;
            }
            return new long[] {lines, cells};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private static final class Parser {
        private final Path file;
        private final Options opts;
        private final List<String> cells = new ArrayList<>();
        private final StringBuilder sb = new StringBuilder();
        private long lineNo;
        private String[] names;

        Parser(Path file, Options opts) {
            this.file = file;
            this.opts = opts;
        }

        Dataset parse(BufferedReader r) throws IOException {
            String line;
            // first non-blank line
            do {
                line = r.readLine();
                lineNo++;
                if (line != null && lineNo == 1 && !line.isEmpty() && line.charAt(0) == '\uFEFF') {
                    line = line.substring(1);
                }
            } while (line != null && line.isBlank());
            if (line == null) {
                throw new DataFormatException(file, "line " + lineNo, "empty file: no header and no data rows");
            }
            split(line);
            int ncols = cells.size();
            long firstLine = lineNo;
            boolean header;
            if (opts.header() != null) {
                header = opts.header();
            } else {
                header = false;
                for (String c : cells) {
                    if (!c.isEmpty() && !looksNumeric(c)) {
                        header = true;
                        break;
                    }
                }
            }
            if (header) {
                names = cells.toArray(new String[0]);
            }
            if (ncols < (opts.labelled() ? 2 : 1)) {
                throw new DataFormatException(file, "line " + firstLine, "only " + ncols
                        + " column; a dataset needs at least one feature column and a label column");
            }
            int labelCol = opts.labelled() ? labelColumn(ncols, firstLine) : -1;
            int width = opts.labelled() ? ncols - 1 : ncols;
            int capRows = 1024;
            float[] features = new float[capRows * width];
            int[] labels = new int[capRows];
            int rows = 0;
            int maxLabel = -1;
            boolean pendingFirst = !header; // the first line is data: its cells are parsed below
            while (true) {
                if (pendingFirst) {
                    pendingFirst = false;
                } else {
                    line = r.readLine();
                    lineNo++;
                    if (line == null) {
                        break;
                    }
                    if (line.isBlank()) {
                        continue;
                    }
                    split(line);
                }
                if (cells.size() != ncols) {
                    throw new DataFormatException(file, "line " + lineNo, "row has " + cells.size() + " cells, expected "
                            + ncols + " as on line " + firstLine);
                }
                if (rows == capRows) {
                    if ((long) capRows * 2 * width > Idx.MAX_ELEMENTS) {
                        throw new DataFormatException(file, "line " + lineNo, "more than " + rows + " rows of width " + width
                                + " do not fit in one array");
                    }
                    capRows *= 2;
                    features = Arrays.copyOf(features, capRows * width);
                    labels = Arrays.copyOf(labels, capRows);
                }
                int o = rows * width;
                for (int c = 0; c < ncols; c++) {
                    String cell = cells.get(c);
                    if (c == labelCol) {
                        int l = label(cell, c);
                        labels[rows] = l;
                        maxLabel = Math.max(maxLabel, l);
                    } else {
                        features[o++] = feature(cell, c);
                    }
                }
                rows++;
            }
            if (rows == 0) {
                throw new DataFormatException(file, "line " + lineNo, "no data rows after the header on line " + firstLine);
            }
            return new Dataset(file.getFileName().toString(), Arrays.copyOf(features, rows * width),
                    Arrays.copyOf(labels, rows), rows, width, Math.max(1, maxLabel + 1));
        }

        private int labelColumn(int ncols, long firstLine) {
            String spec = opts.labelColumn();
            if (spec == null) {
                return ncols - 1;
            }
            String s = spec.trim();
            if (names != null) {
                for (int i = 0; i < names.length; i++) {
                    if (names[i].equals(s)) {
                        return i;
                    }
                }
            }
            int idx;
            try {
                idx = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                if (names == null) {
                    throw new DataFormatException(file, "line " + firstLine, "label column '" + spec
                            + "' is a name, but the file has no header row");
                }
                throw new DataFormatException(file, "line " + firstLine, "label column '" + spec
                        + "' is not in the header (columns: " + String.join(", ", names) + ")");
            }
            if (idx < 0 || idx >= ncols) {
                throw new DataFormatException(file, "line " + firstLine, "label column index " + idx
                        + " is outside the " + ncols + " columns (0.." + (ncols - 1) + ")");
            }
            return idx;
        }

        private String where(int col) {
            return "line " + lineNo + ", column " + (col + 1);
        }

        private String colName(int col) {
            return names == null ? "" : " (column '" + names[col] + "')";
        }

        private float feature(String cell, int col) {
            double d = number(cell, col, "feature");
            float f = (float) d;
            if (Float.isInfinite(f)) {
                throw new DataFormatException(file, where(col), "value " + cell + " is outside the float range" + colName(col));
            }
            return f;
        }

        private int label(String cell, int col) {
            double d = number(cell, col, "label");
            if (d != Math.rint(d) || d < 0 || d >= MAX_CLASSES) {
                throw new DataFormatException(file, where(col), "label " + cell + " is not an integer in [0, "
                        + MAX_CLASSES + ")" + colName(col));
            }
            return (int) d;
        }

        private double number(String cell, int col, String what) {
            if (cell.isEmpty()) {
                throw new DataFormatException(file, where(col), "empty " + what + " cell" + colName(col));
            }
            if (isNonFinite(cell)) {
                throw new DataFormatException(file, where(col), what + " " + cell + " is not a finite number" + colName(col));
            }
            if (!plainNumberChars(cell)) {
                throw new DataFormatException(file, where(col), what + " cell '" + clip(cell) + "' is not a number" + colName(col));
            }
            double d;
            try {
                d = Double.parseDouble(cell);
            } catch (NumberFormatException e) {
                throw new DataFormatException(file, where(col), what + " cell '" + clip(cell) + "' is not a number"
                        + colName(col), e);
            }
            if (!Double.isFinite(d)) {
                throw new DataFormatException(file, where(col), what + " " + cell + " is not a finite number" + colName(col));
            }
            return d;
        }

        /** Splits one line into {@link #cells}. */
        private void split(String line) {
            cells.clear();
            char sep = opts.separator();
            int n = line.length();
            int i = 0;
            while (true) {
                // skip leading blanks
                while (i < n && isBlank(line.charAt(i)) && line.charAt(i) != sep) {
                    i++;
                }
                if (i < n && line.charAt(i) == '"') {
                    int startCol = cells.size();
                    sb.setLength(0);
                    i++;
                    while (true) {
                        if (i >= n) {
                            throw new DataFormatException(file, where(startCol), "unterminated quoted cell"
                                    + " (a quoted cell cannot span lines)");
                        }
                        char c = line.charAt(i++);
                        if (c == '"') {
                            if (i < n && line.charAt(i) == '"') {
                                sb.append('"');
                                i++;
                            } else {
                                break;
                            }
                        } else {
                            sb.append(c);
                        }
                    }
                    while (i < n && isBlank(line.charAt(i)) && line.charAt(i) != sep) {
                        i++;
                    }
                    if (i < n && line.charAt(i) != sep) {
                        throw new DataFormatException(file, where(startCol), "unexpected '" + line.charAt(i)
                                + "' after a closing quote");
                    }
                    cells.add(sb.toString().trim());
                } else {
                    int end = line.indexOf(sep, i);
                    if (end < 0) {
                        end = n;
                    }
                    int e = end;
                    while (e > i && isBlank(line.charAt(e - 1))) {
                        e--;
                    }
                    String cell = line.substring(i, e);
                    if (cell.indexOf('"') >= 0) {
                        throw new DataFormatException(file, where(cells.size()), "stray quote in unquoted cell '"
                                + clip(cell) + "'");
                    }
                    cells.add(cell);
                    i = end;
                }
                if (i >= n) {
                    break;
                }
                i++; // the separator
                if (i == n) {
                    cells.add(""); // a trailing separator ends in an empty cell
                    break;
                }
            }
        }
    }

    private static boolean isBlank(char c) {
        return c == ' ' || c == '\t';
    }

    private static boolean isNonFinite(String s) {
        String t = s.startsWith("+") || s.startsWith("-") ? s.substring(1) : s;
        return t.equalsIgnoreCase("nan") || t.equalsIgnoreCase("inf") || t.equalsIgnoreCase("infinity");
    }

    private static boolean plainNumberChars(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E')) {
                return false;
            }
        }
        return true;
    }

    /** A cell that a header row would not contain: a number, or NaN/infinity spelt out. */
    private static boolean looksNumeric(String s) {
        if (s.isEmpty()) {
            return false;
        }
        if (isNonFinite(s)) {
            return true;
        }
        if (!plainNumberChars(s)) {
            return false;
        }
        try {
            Double.parseDouble(s);
            return true;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
