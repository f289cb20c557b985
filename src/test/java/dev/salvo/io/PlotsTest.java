package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.train.RunFolder;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;

/** The curves chart: one colour per run in both panels, solid train and dashed validation, no yellow, readable ticks. */
class PlotsTest {

    @BeforeAll
    static void needsJavaDesktop() {
        Assumptions.assumeTrue(RunFolder.plottingAvailable(), "no java.desktop module");
    }

    static Plots.Series run(String label, int epochs, double shift) {
        double[] x = new double[epochs];
        double[] tl = new double[epochs];
        double[] vl = new double[epochs];
        double[] va = new double[epochs];
        for (int i = 0; i < epochs; i++) {
            x[i] = i + 1;
            tl[i] = 1.0 / (i + 1) + shift;
            vl[i] = 1.2 / (i + 1) + shift;
            va[i] = 0.8 + 0.18 * i / Math.max(1, epochs - 1) - shift / 10;
        }
        return new Plots.Series(label, x, tl, vl, va);
    }

    static List<Plots.Series> runs(int n) {
        List<Plots.Series> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            list.add(run("run" + i, 6, 0.05 * i));
        }
        return list;
    }

    @Test
    void aRunKeepsOneColourInBothPanelsAndItsValidationLineIsDashed() {
        Plots.Charts c = Plots.build(runs(3), "t");
        Map<String, XYSeries> loss = c.loss().getSeriesMap();
        Map<String, XYSeries> acc = c.accuracy().getSeriesMap();
        assertEquals(6, loss.size(), loss.keySet().toString());
        assertEquals(3, acc.size(), acc.keySet().toString());
        List<Color> seen = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            XYSeries train = loss.get("run" + i + " train");
            XYSeries val = loss.get("run" + i + " validation");
            XYSeries accuracy = acc.get("run" + i);
            assertEquals(train.getLineColor(), val.getLineColor(), "run" + i + ": train and validation share a hue");
            assertEquals(train.getLineColor(), accuracy.getLineColor(), "run" + i + ": the same colour in both panels");
            assertEquals(train.getLineColor(), train.getMarkerColor());
            assertEquals(SeriesLines.SOLID, train.getLineStyle(), "train: solid");
            assertEquals(SeriesLines.DASH_DASH, val.getLineStyle(), "validation: dashed");
            assertEquals(SeriesLines.DASH_DASH, accuracy.getLineStyle(), "validation accuracy: dashed");
            seen.add(train.getLineColor());
        }
        assertEquals(3, seen.stream().distinct().count(), "runs are told apart by colour: " + seen);
    }

    @Test
    void oneRunHasTrainAndValidationInOneColour() {
        Plots.Charts c = Plots.build(List.of(run("a", 4, 0)), "t");
        XYSeries train = c.loss().getSeriesMap().get("train");
        XYSeries val = c.loss().getSeriesMap().get("validation");
        assertEquals(train.getLineColor(), val.getLineColor());
        assertNotEquals(train.getLineStyle(), val.getLineStyle());
        assertEquals(train.getLineColor(), c.accuracy().getSeriesMap().get("validation").getLineColor());
    }

    @Test
    void thePaletteIsDarkAndHasNoYellow() {
        for (Color p : Plots.PALETTE) {
            double luminance = (0.2126 * p.getRed() + 0.7152 * p.getGreen() + 0.0722 * p.getBlue()) / 255;
            assertTrue(luminance < 0.4, p + " is too light for a white background (luminance " + luminance + ")");
            assertTrue(!isYellow(p.getRGB()), p + " is yellow");
        }
        for (int i = 0; i < Plots.PALETTE.size(); i++) {
            for (int j = i + 1; j < Plots.PALETTE.size(); j++) {
                Color a = Plots.PALETTE.get(i);
                Color b = Plots.PALETTE.get(j);
                double d = Math.abs(a.getRed() - b.getRed()) + Math.abs(a.getGreen() - b.getGreen()) + Math.abs(a.getBlue() - b.getBlue());
                assertTrue(d > 80, a + " and " + b + " are too alike");
            }
        }
    }

    /**
     * Saturated and bright, with a hue from amber to yellow-green: XChart's default yellow (255, 215, 0)
     * and amber (255, 172, 0) are; a khaki pixel where two dark lines cross is not.
     */
    static boolean isYellow(int rgb) {
        float[] hsb = Color.RGBtoHSB(rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff, null);
        float hueDegrees = hsb[0] * 360;
        return hueDegrees >= 40 && hueDegrees <= 75 && hsb[1] > 0.6 && hsb[2] > 0.7;
    }

    @Test
    void theRenderedPngHasNoYellowPixels(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("curves.png");
        Plots.curves(runs(8), png, "eight runs");
        BufferedImage img = ImageIO.read(png.toFile());
        List<String> yellow = new ArrayList<>();
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if (isYellow(img.getRGB(x, y))) {
                    yellow.add("(" + x + "," + y + ") #" + Integer.toHexString(img.getRGB(x, y) & 0xffffff));
                }
            }
        }
        assertEquals(List.of(), yellow.subList(0, Math.min(20, yellow.size())), yellow.size() + " yellow pixels in " + png);
    }

    @Test
    void accuracyTicksArePercentagesWithOneDecimal() {
        Plots.Charts c = Plots.build(List.of(run("a", 1, 0)), "one epoch");
        var format = c.accuracy().getStyler().getyAxisTickLabelsFormattingFunction();
        assertEquals("97.9%", format.apply(97.93103448275862));
        assertEquals("100.0%", format.apply(100.0));
        // a flat curve still spans a whole point, so one decimal tells the ticks apart
        assertTrue(c.accuracy().getStyler().getYAxisMax() - c.accuracy().getStyler().getYAxisMin() >= 1);
        assertTrue(c.accuracy().getStyler().getYAxisMin() >= 0 && c.accuracy().getStyler().getYAxisMax() <= 100);
    }

    @Test
    void aRunWithNoEpochsIsNotDrawn() {
        Plots.Series empty = new Plots.Series("empty", new double[0], new double[0], new double[0], new double[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plots.build(List.of(empty), "t"));
        assertTrue(e.getMessage().contains("no epochs"), e.getMessage());
    }
}
