package dev.salvo.io;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * Training curves drawn with XChart: loss (train and validation) and validation accuracy against
 * the epoch, side by side in one PNG, for one run or several (to compare them). Runs headless.
 */
public final class Plots {

    private Plots() {
    }

    /** One run's per-epoch series; {@code valLoss}/{@code valAccuracy} may hold NaN (no validation). */
    public record Series(String label, double[] epoch, double[] trainLoss, double[] valLoss, double[] valAccuracy) {
    }

    /** Writes the curves of {@code runs} to {@code png} (atomically). */
    public static void curves(List<Series> runs, Path png, String title) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart loss = new XYChartBuilder().width(640).height(420).title(title).xAxisTitle("epoch").yAxisTitle("loss").build();
        XYChart acc = new XYChartBuilder().width(640).height(420).title("validation accuracy").xAxisTitle("epoch")
                .yAxisTitle("accuracy (%)").build();
        for (XYChart c : List.of(loss, acc)) {
            c.getStyler().setChartBackgroundColor(Color.WHITE);
            c.getStyler().setLegendVisible(true);
            c.getStyler().setMarkerSize(4);
        }
        boolean several = runs.size() > 1;
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Series r : runs) {
            String label = r.label();
            for (int i = 2; !used.add(label); i++) {
                label = r.label() + " (" + i + ")";
            }
            String prefix = several ? label + " " : "";
            add(loss, prefix + "train", r.epoch(), r.trainLoss());
            add(loss, prefix + "validation", r.epoch(), r.valLoss());
            double[] pct = new double[r.valAccuracy().length];
            for (int i = 0; i < pct.length; i++) {
                pct[i] = 100 * r.valAccuracy()[i];
            }
            add(acc, several ? label : "validation", r.epoch(), pct);
        }
        BufferedImage a = BitmapEncoder.getBufferedImage(loss);
        BufferedImage b = BitmapEncoder.getBufferedImage(acc);
        BufferedImage both = new BufferedImage(a.getWidth() + b.getWidth(), Math.max(a.getHeight(), b.getHeight()),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = both.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, both.getWidth(), both.getHeight());
        g.drawImage(a, 0, 0, null);
        g.drawImage(b, a.getWidth(), 0, null);
        g.dispose();
        AtomicFile.write(png, out -> ImageIO.write(both, "png", out));
    }

    private static void add(XYChart chart, String name, double[] x, double[] y) {
        int n = 0;
        for (double v : y) {
            n += Double.isFinite(v) && v > 0 ? 1 : 0;
        }
        if (n == 0) {
            return;
        }
        double[] xs = new double[n];
        double[] ys = new double[n];
        int k = 0;
        for (int i = 0; i < y.length; i++) {
            if (Double.isFinite(y[i]) && y[i] > 0) {
                xs[k] = x[i];
                ys[k++] = y[i];
            }
        }
        XYSeries s = chart.addSeries(name, xs, ys);
        s.setMarker(SeriesMarkers.CIRCLE);
    }
}
