package dev.salvo.bench;

import dev.salvo.io.AtomicFile;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code bench.png}: matmul GFLOP/s (median) against n, one series per device and reference, log
 * axes. This class needs the java.desktop module: load it only when
 * {@link dev.salvo.train.RunFolder#plottingAvailable()} says so.
 */
final class BenchChart {

    private BenchChart() {
    }

    /** Writes the chart of {@code results} to {@code png} (atomically); {@code labels}: source to legend text. */
    static void write(List<BenchResults.Matmul> results, Map<String, String> labels, Path png, String title)
            throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(800).height(520).title(title).xAxisTitle("n (C = A B, n x n, float32)")
                .yAxisTitle("GFLOP/s (median)").build();
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendVisible(true);
        chart.getStyler().setMarkerSize(7);
        chart.getStyler().setXAxisLogarithmic(true);
        Map<String, List<BenchResults.Matmul>> bySource = new LinkedHashMap<>();
        double lo = Double.POSITIVE_INFINITY;
        double hi = 0;
        for (BenchResults.Matmul m : results) {
            if (m.gflops().median() > 0) {
                bySource.computeIfAbsent(m.source(), k -> new ArrayList<>()).add(m);
                lo = Math.min(lo, m.gflops().median());
                hi = Math.max(hi, m.gflops().median());
            }
        }
        // devices 50x apart (a CPU beside OpenCL on PoCL) stay readable on a log axis
        chart.getStyler().setYAxisLogarithmic(hi > 20 * lo);
        for (var e : bySource.entrySet()) {
            List<BenchResults.Matmul> ms = e.getValue();
            double[] x = new double[ms.size()];
            double[] y = new double[ms.size()];
            for (int i = 0; i < x.length; i++) {
                x[i] = ms.get(i).n();
                y[i] = ms.get(i).gflops().median();
            }
            XYSeries s = chart.addSeries(labels.getOrDefault(e.getKey(), e.getKey()), x, y);
            s.setMarker(SeriesMarkers.CIRCLE);
        }
        if (bySource.isEmpty()) {
            chart.addSeries("no measurements", new double[] {1}, new double[] {1});
        }
        BufferedImage img = BitmapEncoder.getBufferedImage(chart);
        AtomicFile.write(png, out -> ImageIO.write(img, "png", out));
    }
}
