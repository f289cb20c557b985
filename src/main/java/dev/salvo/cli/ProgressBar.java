package dev.salvo.cli;

import dev.salvo.train.EpochStats;
import dev.salvo.train.TrainListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Training progress: a bar with ETA and the running loss on {@code err} (redrawn in place, at most
 * ten times a second), and one summary line per epoch on {@code out}.
 *
 * <p>The bar is drawn only when standard error is a terminal ({@link #stderrIsTerminal()}): in a log
 * file or a pipe its carriage-return redraws would pile up as thousands of lines. The epoch lines
 * are written either way.
 */
class ProgressBar implements TrainListener {

    private static final int WIDTH = 24;
    private final PrintWriter out;
    private final PrintWriter err;
    private final boolean enabled;
    private int epochs;
    private int steps;
    private long totalSteps;
    private long start;
    private long lastDraw;
    private double running = Double.NaN;
    private boolean drawn;

    /** {@code enabled}: the bar was asked for (no {@code --no-progress}); it is drawn only on a terminal. */
    ProgressBar(PrintWriter out, PrintWriter err, boolean enabled) {
        this(out, err, enabled, stderrIsTerminal());
    }

    /** {@code terminal}: whether {@code err} is a terminal (tests pass it; the CLI asks {@link #stderrIsTerminal()}). */
    ProgressBar(PrintWriter out, PrintWriter err, boolean enabled, boolean terminal) {
        this.out = out;
        this.err = err;
        this.enabled = enabled && terminal;
    }

    /** System property that says whether standard error is a terminal; the {@code salvo} launcher sets it. */
    static final String TTY_PROPERTY = "salvo.stderr.tty";

    /**
     * Whether standard error is a terminal: the system property {@value #TTY_PROPERTY}
     * ({@code true}/{@code false}; the {@code salvo} launcher sets it from {@code [ -t 2 ]}), else
     * whether the JVM has an interactive console ({@link System#console()}, and on Java 22 and later
     * {@code Console.isTerminal()}). Java itself cannot ask about standard error alone.
     */
    static boolean stderrIsTerminal() {
        String p = System.getProperty(TTY_PROPERTY);
        if (p != null) {
            return Boolean.parseBoolean(p.trim());
        }
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try { // Java 22+: System.console() is not null for a redirected JVM; isTerminal() tells
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true; // Java 17-21: a console exists only when stdin and stdout are terminals
        }
    }

    @Override
    public void onStart(int epochs, int stepsPerEpoch, int trainRows) {
        this.epochs = epochs;
        this.steps = stepsPerEpoch;
        this.totalSteps = (long) epochs * stepsPerEpoch;
        this.start = System.nanoTime();
    }

    @Override
    public void onLoss(long step, double loss) {
        running = Double.isNaN(running) ? loss : 0.95 * running + 0.05 * loss;
    }

    @Override
    public void onStep(int epoch, long step, int rows) {
        long now = System.nanoTime();
        if (!enabled || now - lastDraw < 100_000_000L && (step + 1) % steps != 0) {
            return;
        }
        lastDraw = now;
        long done = step + 1;
        int inEpoch = (int) (step % steps) + 1;
        double elapsed = (now - start) / 1e9;
        double eta = elapsed / done * (totalSteps - done);
        int filled = (int) ((long) WIDTH * inEpoch / steps);
        String bar = "#".repeat(filled) + ".".repeat(WIDTH - filled);
        String loss = Double.isNaN(running) ? "-" : String.format(Locale.ROOT, "%.4f", running);
        err.printf(Locale.ROOT, "\repoch %d/%d [%s] %d/%d loss %s ETA %s ", epoch + 1, epochs, bar, inEpoch, steps,
                loss, Format.duration(eta));
        err.flush();
        drawn = true;
    }

    @Override
    public void onEpoch(EpochStats s) {
        clear();
        String val = Double.isNaN(s.valLoss()) ? ""
                : String.format(Locale.ROOT, "  val loss %.4f  val acc %s", s.valLoss(), Format.percent(s.valAccuracy()));
        out.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f%s  lr %.3g  %.2fs  %.0f samples/s%n", s.epoch(), epochs,
                s.trainLoss(), val, s.learningRate(), s.seconds(), s.samplesPerSecond());
        out.flush();
    }

    void clear() {
        if (drawn) {
            err.print("\r" + " ".repeat(WIDTH + 60) + "\r");
            err.flush();
            drawn = false;
        }
    }
}
