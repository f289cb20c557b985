package dev.salvo.io;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Training curves drawn with XChart: loss (train and validation) and validation accuracy against
 * the epoch, side by side in one PNG, for one run or several (to compare them). Runs headless.
 *
 * <p>Each run has one colour, the same in both panels, from {@link #PALETTE} (dark colours that
 * read on white and differ from each other); its train loss is a solid line, its validation
 * curves are dashed. Accuracy ticks are percentages with one decimal.
 */
public final class Plots {

    /** Run colours, in order (repeated after the seventh run): dark enough for white, no yellow. */
    public static final List<Color> PALETTE = List.of(
            new Color(0x1f, 0x4e, 0x9c),  // blue
            new Color(0xc0, 0x39, 0x2b),  // red
            new Color(0x1e, 0x7b, 0x34),  // green
            new Color(0x7b, 0x3f, 0xa0),  // purple
            new Color(0xb3, 0x59, 0x00),  // burnt orange
            new Color(0x44, 0x44, 0x44),  // dark grey
            new Color(0xa0, 0x16, 0x6e)); // magenta

    /** Line style of training curves. */
    public static final BasicStroke TRAIN_LINE = SeriesLines.SOLID;
    /** Line style of validation curves. */
    public static final BasicStroke VALIDATION_LINE = SeriesLines.DASH_DASH;

    private Plots() {
    }

    /** One run's per-epoch series; {@code valLoss}/{@code valAccuracy} may hold NaN (no validation). */
    public record Series(String label, double[] epoch, double[] trainLoss, double[] valLoss, double[] valAccuracy) {
    }

    /** The two panels, built but not drawn. */
    public record Charts(XYChart loss, XYChart accuracy) {
    }

    /** The colour of the {@code i}-th run. */
    public static Color colour(int i) {
        return PALETTE.get(i % PALETTE.size());
    }

    /** An accuracy tick (the axis is in percent): {@code 97.93103448275862} is {@code 97.9%}. */
    public static String percentTick(double percent) {
        return String.format(Locale.ROOT, "%.1f%%", percent);
    }

    /**
     * Builds the loss and accuracy panels of {@code runs}.
     *
     * @throws IllegalArgumentException when no run has an epoch to draw
     */
    public static Charts build(List<Series> runs, String title) {
        if (runs.stream().allMatch(r -> r.epoch().length == 0)) {
            throw new IllegalArgumentException("nothing to plot: no epochs in " + runs.stream().map(Series::label).toList());
        }
        System.setProperty("java.awt.headless", "true");
        XYChart loss = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle("loss").build();
        XYChart acc = new XYChartBuilder().width(640).height(420).title("validation accuracy").xAxisTitle("epoch")
                .yAxisTitle("accuracy (%)").build();
        for (XYChart c : List.of(loss, acc)) {
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            c.getStyler().setPlotBackgroundColor(Color.WHITE);
            c.getStyler().setSeriesColors(PALETTE.toArray(new Color[0]));
            c.getStyler().setLegendVisible(true);
            c.getStyler().setMarkerSize(4);
            c.getStyler().setLocale(Locale.ROOT);
        }
        acc.getStyler().setyAxisTickLabelsFormattingFunction(Plots::percentTick);
        boolean several = runs.size() > 1;
        Set<String> used = new HashSet<>();
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < runs.size(); i++) {
            Series r = runs.get(i);
            Color colour = colour(i);
            String label = r.label();
            for (int k = 2; !used.add(label); k++) {
                label = r.label() + " (" + k + ")";
            }
            String prefix = several ? label + " " : "";
            add(loss, prefix + "train", r.epoch(), r.trainLoss(), colour, TRAIN_LINE);
            add(loss, prefix + "validation", r.epoch(), r.valLoss(), colour, VALIDATION_LINE);
            double[] pct = new double[r.valAccuracy().length];
            for (int k = 0; k < pct.length; k++) {
                pct[k] = 100 * r.valAccuracy()[k];
                if (Double.isFinite(pct[k])) {
                    lo = Math.min(lo, pct[k]);
                    hi = Math.max(hi, pct[k]);
                }
            }
            add(acc, several ? label : "validation", r.epoch(), pct, colour, VALIDATION_LINE);
        }
        if (lo <= hi) {
            // whole points around the data, at least one point apart, so one decimal tells ticks apart
            double min = Math.max(0, Math.floor(lo));
            double max = Math.min(100, Math.ceil(hi));
            if (max - min < 1) {
                if (max < 100) {
                    max = min + 1;
                } else {
                    min = max - 1;
                }
            }
            acc.getStyler().setYAxisMin(min);
            acc.getStyler().setYAxisMax(max);
        }
        return new Charts(loss, acc);
    }

    /** Both panels side by side on white. */
    public static BufferedImage render(Charts charts) {
        BufferedImage a = BitmapEncoder.getBufferedImage(charts.loss());
        BufferedImage b = BitmapEncoder.getBufferedImage(charts.accuracy());
        BufferedImage both = new BufferedImage(a.getWidth() + b.getWidth(), Math.max(a.getHeight(), b.getHeight()),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, both.getWidth(), both.getHeight());
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, a.getWidth(), 0, null);
        g.dispose();
        return both;
    }

    /**
     * Writes the curves of {@code runs} to {@code png} (atomically).
     *
     * @throws IllegalArgumentException when no run has an epoch to draw
     */
    public static void curves(List<Series> runs, Path png, String title) throws IOException {
        BufferedImage image = render(build(runs, title));
        AtomicFile.write(png, out -> ImageIO.write(image, "png", out));
    }

    /** Adds the finite points of {@code y}; a series with none (no validation) is left out. */
    private static void add(XYChart chart, String name, double[] x, double[] y, Color colour, BasicStroke line) {
        int n = 0;
        for (double v : y) {
            n += Double.isFinite(v) ? 1 : 0;
        }
        if (n == 0) {
            return;
        }
        double[] xs = new double[n];
        double[] ys = new double[n];
        int k = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isFinite(y[i])) {
                xs[k] = x[i];
                ys[k++] = y[i];
            }
        }
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setMarker(SeriesMarkers.CIRCLE);
        s.setLineColor(colour);
        s.setMarkerColor(colour);
        s.setLineStyle(line);
    }
}
