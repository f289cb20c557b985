package dev.salvo.io;

import java.nio.file.Path;

/**
 * The one exception type {@link SafeTensors#read} throws for a malformed safetensors file: a
 * truncated file, a header length that disagrees with the file or exceeds the limit, a header
 * that is not UTF-8 JSON, tensor entries with missing or mistyped fields, unsupported dtypes,
 * offsets that overlap, leave gaps or run past the data. Its message is one line,
 * {@code <file>: <location>: <problem>}, where the location is for example {@code byte 8},
 * {@code tensor layers.0.weight} or {@code __metadata__.epoch}.
 *
 * <p>Failures of the file system itself (a missing file, a permission error) are not format
 * errors; they come out as {@link java.io.UncheckedIOException}.
 */
public final class SafeTensorsException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String file;
    private final String location;
    private final String problem;

    public SafeTensorsException(Path file, String location, String problem) {
        this(file, location, problem, null);
    }

    /** With the low-level exception (a Jackson parse error, ...) as the cause. */
    public SafeTensorsException(Path file, String location, String problem, Throwable cause) {
        super(oneLine(String.valueOf(file)) + ": " + oneLine(location) + ": " + oneLine(problem), cause);
        this.file = String.valueOf(file);
        this.location = location;
        this.problem = problem;
    }

    /** The file, as given to the reader. */
    public String file() {
        return file;
    }

    /** Where in the file, for example {@code byte 8} or {@code tensor layers.0.weight}. */
    public String location() {
        return location;
    }

    /** What is wrong, without the file and location. */
    public String problem() {
        return problem;
    }

    private static String oneLine(String s) {
        return s == null ? "null" : s.replace('\r', ' ').replace('\n', ' ');
    }
}
