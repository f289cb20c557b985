package dev.salvo.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.salvo.train.EpochStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The folder a training run writes: {@code metrics.csv} (one line per epoch, appended as training
 * goes), {@code summary.json}, {@code curves.png} and the model file.
 */
public final class RunFolder {

    public static final String METRICS = "metrics.csv";
    public static final String SUMMARY = "summary.json";
    public static final String CURVES = "curves.png";
    public static final String MODEL = "model.safetensors";
    static final String HEADER = "epoch,step,train_loss,val_loss,val_accuracy,learning_rate,samples_per_s,device";

    private final Path dir;
    private final String device;
    private final List<EpochStats> epochs = new ArrayList<>();
    private final List<Long> steps = new ArrayList<>();

    private RunFolder(Path dir, String device) {
        this.dir = dir;
        this.device = device;
    }

    /** {@code out}, or {@code runs/<yyyyMMdd-HHmmss>} (made unique) when null. */
    public static RunFolder create(Path out, String device) {
        Path dir = out;
        if (dir == null) {
            String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
            dir = Path.of("runs", stamp);
            for (int i = 2; Files.exists(dir); i++) {
                dir = Path.of("runs", stamp + "-" + i);
            }
        }
        try {
            Files.createDirectories(dir);
            Files.writeString(dir.resolve(METRICS), HEADER + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("--out: cannot create run folder " + dir + ": " + e.getMessage(), e);
        }
        return new RunFolder(dir, device);
    }

    public Path dir() {
        return dir;
    }

    /** Appends one epoch to metrics.csv (flushed at once, so a crashed run keeps its curve). */
    public void epoch(EpochStats s, long step) {
        epochs.add(s);
        steps.add(step);
        String line = String.format(Locale.ROOT, "%d,%d,%.6g,%s,%s,%.6g,%.1f,%s%n", s.epoch(), step, s.trainLoss(),
                num(s.valLoss()), num(s.valAccuracy()), s.learningRate(), s.samplesPerSecond(), device);
        try {
            Files.writeString(dir.resolve(METRICS), line, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(METRICS) + ": " + e.getMessage(), e);
        }
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%.6g", v);
    }

    public void summary(Map<String, Object> summary) {
        try {
            byte[] json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(summary);
            AtomicFile.write(dir.resolve(SUMMARY), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + dir.resolve(SUMMARY) + ": " + e.getMessage(), e);
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
            throw new UncheckedIOException("cannot write " + dir.resolve(CURVES) + ": " + e.getMessage(), e);
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
