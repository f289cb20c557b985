package dev.salvo.train;

import dev.salvo.nn.Model;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A per-step record for checking data-parallel runs: with {@code SALVO_STEP_TRACE=DIR} every
 * rank (and a single process, as rank 0) appends to {@code DIR/rank-R.tsv} one line per step whose
 * loss was read back: the global step, its loss and the SHA-256 of the parameters after it.
 * Copies every parameter to the host each step: a diagnostic, off unless asked for.
 */
final class StepTrace implements AutoCloseable {

    private final Writer out;

    private StepTrace(Writer out) {
        this.out = out;
    }

    /** The trace asked for by the environment, or null. */
    static StepTrace fromEnvironment(int rank) {
        String dir = System.getenv("SALVO_STEP_TRACE");
        if (dir == null || dir.isBlank()) {
            return null;
        }
        try {
            Path d = Path.of(dir);
            Files.createDirectories(d);
            return new StepTrace(Files.newBufferedWriter(d.resolve("rank-" + rank + ".tsv"), StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("SALVO_STEP_TRACE=" + dir + ": cannot write there: " + e.getMessage());
        }
    }

    /** Records step {@code step} (0-based) with {@code loss}; the model holds the parameters after it. */
    void step(long step, double loss, Model model) {
        try {
            out.write(String.format(Locale.ROOT, "%d\t%.9e\t%s%n", step + 1, loss, model.layout().sha256(model.parametersToHost())));
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            // a trace is a diagnostic
        }
    }
}
