package dev.salvo.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.salvo.io.AtomicFile;
import dev.salvo.io.OutputPaths;
import dev.salvo.io.Plots;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.LinkOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The folder a training run writes: {@code metrics.csv} (one line per epoch, rewritten atomically
 * after each epoch so that a crashed or interrupted run keeps its curve), {@code summary.json},
 * {@code curves.png}, the model file and, for an interrupted run without {@code --checkpoint-dir},
 * its checkpoint. A resumed run carries the epochs of the run it continues, so every file holds
 * the whole history.
 */
public final class RunFolder {

    public static final String METRICS = "metrics.csv";
    public static final String SUMMARY = "summary.json";
    public static final String CURVES = "curves.png";
    public static final String MODEL = "model.safetensors";
    /** The checkpoint an interrupted run leaves in its folder when it has no checkpoint directory. */
    public static final String CHECKPOINT = "checkpoint.bin";
    /** The files that make a folder a run folder; {@link Mode#OVERWRITE} deletes exactly these. */
    public static final List<String> RUN_FILES = List.of(METRICS, SUMMARY, CURVES, MODEL, CHECKPOINT);
    static final String HEADER = "epoch,step,train_loss,val_loss,val_accuracy,learning_rate,samples_per_s,device";

    /** What to do when the folder already holds a run. */
    public enum Mode {
        /** Refuse a folder that holds any of {@link #RUN_FILES} (exit code 2). */
        NEW,
        /** Delete its run files first (the user asked: {@code --overwrite}). */
        OVERWRITE,
        /** It is the folder of the run being resumed: keep it and continue its files. */
        CONTINUE
    }

    private final Path dir;
    private final String device;
    private final List<EpochStats> epochs = new ArrayList<>();
    private final List<Long> steps = new ArrayList<>();
    private final List<String> devices = new ArrayList<>();

    private RunFolder(Path dir, String device) {
        this.dir = dir;
        this.device = device;
    }

    /** {@code runs/<yyyyMMdd-HHmmss>}, made unique: the default run folder. */
    public static Path defaultDir() {
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path dir = Path.of("runs", stamp);
        for (int i = 2; Files.exists(dir, LinkOption.NOFOLLOW_LINKS); i++) {
            dir = Path.of("runs", stamp + "-" + i);
        }
        return dir;
    }

    /**
     * Checks {@code dir} (or the default when null) before any training: it must be, or be
     * creatable as, a writable directory (made now), and by {@code mode} it may not already hold a
     * run. Returns the folder to pass to {@link #open}.
     *
     * @throws IllegalArgumentException naming {@code --out} and the reason (exit code 2)
     */
    public static Path prepare(Path dir, Mode mode) {
        Path d = dir == null ? defaultDir() : dir;
        OutputPaths.directory("--out", d);
        for (String f : RUN_FILES) {
            OutputPaths.file("--out", d.resolve(f)); // a FIFO or directory in its place is never written to
        }
        if (mode == Mode.NEW) {
            List<String> found = runFiles(d);
            if (!found.isEmpty()) {
                throw new IllegalArgumentException("--out " + d + ": already holds a run (" + String.join(", ", found)
                        + "); choose another folder, resume it with --resume, or pass --overwrite to replace it");
            }
        }
        return d;
    }

    /** The {@link #RUN_FILES} present in {@code dir}. */
    public static List<String> runFiles(Path dir) {
        List<String> found = new ArrayList<>();
        for (String f : RUN_FILES) {
            if (Files.exists(dir.resolve(f), LinkOption.NOFOLLOW_LINKS)) {
                found.add(f);
            }
        }
        return found;
    }

    /**
     * Opens the run folder {@link #prepare} checked: with {@link Mode#OVERWRITE} its run files are
     * deleted first; then {@code metrics.csv} is written with {@code history} (the epochs of a
     * resumed run, with their global steps and devices; empty for a new run).
     */
    public static RunFolder open(Path dir, Mode mode, String device, List<EpochStats> history, List<Long> historySteps,
                                 List<String> historyDevices) {
        RunFolder r = new RunFolder(dir, device);
        try {
            if (mode == Mode.OVERWRITE) {
                for (String f : RUN_FILES) {
                    Files.deleteIfExists(dir.resolve(f));
                }
            }
            for (int i = 0; i < history.size(); i++) {
                r.epochs.add(history.get(i));
                r.steps.add(historySteps.get(i));
                r.devices.add(i < historyDevices.size() && !historyDevices.get(i).isEmpty() ? historyDevices.get(i) : device);
            }
            r.writeMetrics();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(METRICS) + ": " + OutputPaths.reason(e), e);
        }
        return r;
    }

    /** A new run folder at {@code out} (or the default), refusing one that holds a run. */
    public static RunFolder create(Path out, String device) {
        return open(prepare(out, Mode.NEW), Mode.NEW, device, List.of(), List.of(), List.of());
    }

    public Path dir() {
        return dir;
    }

    /** The epochs written so far (restored ones included). */
    public List<EpochStats> epochs() {
        return List.copyOf(epochs);
    }

    /** Adds one epoch and rewrites metrics.csv (atomically, at once, so a crashed run keeps its curve). */
    public void epoch(EpochStats s, long step) {
        epochs.add(s);
        steps.add(step);
        devices.add(device);
        try {
            writeMetrics();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(METRICS) + ": " + OutputPaths.reason(e), e);
        }
    }

    private void writeMetrics() throws IOException {
        StringBuilder sb = new StringBuilder(HEADER).append('\n');
        for (int i = 0; i < epochs.size(); i++) {
            EpochStats s = epochs.get(i);
            sb.append(String.format(Locale.ROOT, "%d,%d,%.6g,%s,%s,%.6g,%.1f,%s%n", s.epoch(), steps.get(i), s.trainLoss(),
                    num(s.valLoss()), num(s.valAccuracy()), s.learningRate(), s.samplesPerSecond(), devices.get(i)));
        }
        AtomicFile.write(dir.resolve(METRICS), sb.toString().getBytes(StandardCharsets.UTF_8));
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    public void summary(Map<String, Object> summary) {
        try {
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(summary);
            AtomicFile.write(dir.resolve(SUMMARY), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(SUMMARY) + ": " + OutputPaths.reason(e), e);
        }
    }

    /**
     * True when this Java runtime can draw (the java.desktop module is present). Asked here, not in
     * {@link Plots}, whose class must not even be loaded without java.desktop.
     */
    public static boolean plottingAvailable() {
        return ModuleLayer.boot().findModule("java.desktop").isPresent();
    }

    /** Draws curves.png; returns false (and draws nothing) on a runtime without java.desktop. */
    public boolean curves(String title) {
        if (!plottingAvailable() || epochs.isEmpty()) {
            return false;
        }
        try {
            Plots.curves(List.of(series(title, epochs)), dir.resolve(CURVES), title);
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(CURVES) + ": " + OutputPaths.reason(e), e);
        }
    }

    static Plots.Series series(String label, List<EpochStats> e) {
        int n = e.size();
        double[] x = new double[n];
        double[] tl = new double[n];
        double[] vl = new double[n];
        double[] va = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = e.get(i).epoch();
            tl[i] = e.get(i).trainLoss();
            vl[i] = e.get(i).valLoss();
            va[i] = e.get(i).valAccuracy();
        }
        return new Plots.Series(label, x, tl, vl, va);
    }

    /**
     * Reads a run folder's metrics.csv as a plot series labelled with the folder's name.
     *
     * @throws IllegalArgumentException naming the file and line when it is not a Salvo metrics file
     */
    public static Plots.Series read(Path run) {
        Path f = Files.isDirectory(run) ? run.resolve(METRICS) : run;
        List<String> lines;
        try {
            lines = Files.readAllLines(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException(f + ": cannot read (" + e.getMessage() + "); expected a run folder with " + METRICS);
        }
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            throw new IllegalArgumentException(f + ": line 1: not a Salvo metrics file (expected the header " + HEADER + ")");
        }
        List<EpochStats> e = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] c = lines.get(i).split(",", -1);
            try {
                e.add(new EpochStats(Integer.parseInt(c[0]), Double.parseDouble(c[2]), c[3].isEmpty() ? Double.NaN : Double.parseDouble(c[3]),
                        c[4].isEmpty() ? Double.NaN : Double.parseDouble(c[4]), Double.parseDouble(c[5]), Double.NaN,
                        Double.parseDouble(c[6])));
            } catch (RuntimeException ex) {
                throw new IllegalArgumentException(f + ": line " + (i + 1) + ": malformed (" + ex.getMessage() + ")");
            }
        }
        Path name = (Files.isDirectory(run) ? run : run.toAbsolutePath().getParent()).getFileName();
        return series(name == null ? run.toString() : name.toString(), e);
    }
}
