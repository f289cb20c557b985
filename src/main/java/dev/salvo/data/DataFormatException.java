package dev.salvo.data;

import java.nio.file.Path;

/**
 * The one exception type the data readers ({@link Idx}, {@link Csv}, {@link StandardDatasets})
 * throw for malformed input: wrong magic numbers, truncated or corrupt (gzip) data, sizes that
 * disagree with the file, cells that are not numbers, labels out of range. Its message is one
 * line, {@code <file>: <location>: <problem>}, where the location is for example
 * {@code byte 16}, {@code compressed byte 1234}, {@code line 7} or {@code line 12, column 3}.
 *
 * <p>Failures of the file system itself (a missing file, a permission error) are not format
 * errors; they come out as {@link java.io.UncheckedIOException} or {@link java.nio.file.NoSuchFileException}
 * wrapped in one.
 */
public final class DataFormatException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final String location;

    public DataFormatException(Path file, String location, String problem) {
        this(String.valueOf(file), location, problem, null);
    }

    public DataFormatException(String file, String location, String problem) {
        this(file, location, problem, null);
    }

    /** With the low-level exception (an {@code EOFException}, a {@code ZipException}, ...) as the cause. */
    public DataFormatException(Path file, String location, String problem, Throwable cause) {
        this(String.valueOf(file), location, problem, cause);
    }

    public DataFormatException(String file, String location, String problem, Throwable cause) {
        super(oneLine(file) + ": " + oneLine(location) + ": " + oneLine(problem), cause);
        this.file = file;
        this.location = location;
    }

    /** The file, as given to the reader. */
    public String file() {
        return file;
    }

    /** Where in the file, for example {@code byte 16} or {@code line 12, column 3}. */
    public String location() {
        return location;
    }

    private static String oneLine(String s) {
        return s == null ? "null" : s.replace('\r', ' ').replace('\n', ' ');
    }
}
