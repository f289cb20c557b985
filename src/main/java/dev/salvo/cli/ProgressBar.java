package dev.salvo.cli;

import dev.salvo.train.EpochStats;
import dev.salvo.train.TrainListener;
import java.io.PrintWriter;
import java.util.Locale;

/**
 * Training progress: a bar with ETA and the running loss on {@code err} (redrawn in place, at most
 * ten times a second), and one summary line per epoch on {@code out}.
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

    ProgressBar(PrintWriter out, PrintWriter err, boolean enabled) {
        this.out = out;
        this.err = err;
        this.enabled = enabled;
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
