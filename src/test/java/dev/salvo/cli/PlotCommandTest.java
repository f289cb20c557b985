package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.train.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PlotCommandTest {

    static final String HEADER = "epoch,step,train_loss,val_loss,val_accuracy,learning_rate,samples_per_s,device";

    @Test
    void aRunWithNoEpochsSaysSoInsteadOfDrawingAnEmptyChart(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(RunFolder.plottingAvailable(), "no java.desktop module");
        Path run = dir.resolve("fresh");
        Files.createDirectories(run);
        Files.writeString(run.resolve("metrics.csv"), HEADER + "\n");
        Path png = dir.resolve("out.png");
        for (String arg : new String[] {run.toString(), run.resolve("metrics.csv").toString()}) {
            CliTest.Result r = CliTest.run("plot", arg, "-o", png.toString());
            assertEquals(2, r.code(), r.out() + r.err());
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().contains(run.resolve("metrics.csv").toString()) && r.err().contains("no epochs"), r.err());
            assertFalse(Files.exists(png), "an empty chart was drawn");
        }
    }

    @Test
    void aRunWithEpochsIsDrawn(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(RunFolder.plottingAvailable(), "no java.desktop module");
        Path run = dir.resolve("one");
        Files.createDirectories(run);
        Files.writeString(run.resolve("metrics.csv"), HEADER + "\n1,40,0.5,0.4,0.9793103448275862,0.003,1000.0,cpu:0\n");
        Path png = dir.resolve("out.png");
        CliTest.Result r = CliTest.run("plot", run.toString(), "-o", png.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Files.size(png) > 1000);
    }
}
