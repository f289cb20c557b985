package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code salvo train --net FILE}: a network that does not fit together is exit code 2 with one line
 * naming the file, the layer (index and name) and both shapes, before the data is read or a device
 * opened (the data here does not exist: its error would come second); a good file trains.
 */
class NetFileCliTest {

    private static final String IMG = "\"input\": [1, 8, 8], ";

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        // conv on a flat input
        "{\"inputs\": 64, \"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3}, {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 3}]}"
                + "|layers[0] (conv2d) does not fit its input (64)|expects an image (C,H,W)",
        // dense after a conv without flatten
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"name\": \"c1\"}, {\"type\": \"dense\", \"units\": 3}]}"
                + "|layers[1] (dense) does not fit its input (4,6,6)|put flatten",
        // a pooling window larger than its input
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3}, {\"type\": \"maxpool\", \"kernel\": 9, \"name\": \"big\"},"
                + " {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 3}]}|layers[1] (maxpool \"big\") does not fit its input (4,6,6)|window is larger",
        // a kernel larger than the image
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 11}, {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 3}]}"
                + "|layers[0] (conv2d) does not fit its input (1,8,8)|larger than the padded input",
        // zero and negative sizes
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 0, \"kernel\": 3}]}|layers[0].out|expected a positive integer, got 0",
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": -3}]}|layers[0].kernel|expected a positive integer, got -3",
        "{\"input\": [1, 0, 8], \"layers\": [{\"type\": \"flatten\"}]}|input[1]|expected a positive integer, got 0",
        "{" + IMG + "\"layers\": [{\"type\": \"dropout\", \"p\": 1.5}]}|layers[0].p|expected a number in [0.0, 1.0)",
        // unknown types and fields, residual shapes, names
        "{" + IMG + "\"layers\": [{\"type\": \"conv3d\"}]}|layers[0].type|unknown layer type \"conv3d\"",
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"kernal\": 3}]}|layers[0].kernal|unknown field for conv2d",
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"name\": \"a\"}, {\"type\": \"add\", \"inputs\": [\"a\", \"input\"]}]}"
                + "|layers[1] (add) does not fit its input (4,6,6) and (1,8,8)|same shape",
        "{" + IMG + "\"layers\": [{\"type\": \"add\", \"inputs\": [\"input\", \"nope\"]}]}|layers[0].inputs|no earlier layer named \"nope\"",
        "{" + IMG + "\"layers\": [{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3}]}|layers[0]|the network's output must be features",
        "{" + IMG + "\"layers\": []}|layers|expected a non-empty array",
        "{" + IMG + "\"layers\": [{\"type\": \"flatten\"}|(json)|not valid JSON",
    })
    void aNetworkThatDoesNotFitIsExitCode2NamingTheLayer(String json, String field, String expected, @TempDir Path dir)
            throws IOException {
        Path net = dir.resolve("net.json");
        Files.writeString(net, json);
        CliTest.Result r = CliTest.run("train", "--data", "csv:" + dir.resolve("no-such-data.csv"), "--net", net.toString(),
                "--out", dir.resolve("run").toString(), "--no-progress");
        assertEquals(2, r.code(), r.err());
        String line = r.err().strip();
        assertEquals(1, line.lines().count(), line);
        assertTrue(line.contains("--net " + net + ": " + field) && line.contains(expected), line);
        assertTrue(!line.contains("Exception") && !line.contains("\tat "), line);
    }

    @Test
    void netAndLayersCannotBeCombined(@TempDir Path dir) throws IOException {
        Path net = dir.resolve("net.json");
        Files.writeString(net, "{\"inputs\": 4, \"layers\": [{\"type\": \"dense\", \"units\": 2}]}");
        CliTest.Result r = CliTest.run("train", "--data", "digits", "--net", net.toString(), "--layers", "64,10",
                "--out", dir.resolve("run").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--net and --layers cannot be combined"), r.err());
    }

    @Test
    void aNetworkOfTheWrongSizeForTheDataNamesBoth(@TempDir Path dir) throws IOException {
        Path net = dir.resolve("net.json");
        Files.writeString(net, "{\"input\": [1, 7, 7], \"layers\": [{\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 10}]}");
        CliTest.Result r = CliTest.run("train", "--data", "digits", "--net", net.toString(), "--out", dir.resolve("run").toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("input (1,7,7) holds 49 values per sample, but digits has 64 features"), r.err());
    }

    /** A small CNN from a file trains on the digits, saves its graph and running statistics, and evaluates to the same accuracy. */
    @Test
    void aCnnFromAFileTrainsSavesAndEvaluates(@TempDir Path dir) throws IOException {
        Path net = dir.resolve("net.json");
        Files.writeString(net, "{\"input\": [1, 8, 8], \"layers\": [{\"type\": \"conv2d\", \"out\": 8, \"kernel\": 3, \"padding\": 1},"
                + " {\"type\": \"batchnorm\"}, {\"type\": \"relu\"}, {\"type\": \"maxpool\", \"kernel\": 2}, {\"type\": \"flatten\"},"
                + " {\"type\": \"dropout\", \"p\": 0.2}, {\"type\": \"dense\", \"units\": 10}]}");
        Path run = dir.resolve("run");
        CliTest.Result r = CliTest.run("train", "--data", "digits", "--net", net.toString(), "--epochs", "10", "--batch-size", "32",
                "--out", run.toString(), "--no-progress");
        assertEquals(0, r.code(), r.err());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("test accuracy ([0-9.]+)%").matcher(r.out());
        assertTrue(m.find(), r.out());
        double acc = Double.parseDouble(m.group(1));
        assertTrue(acc > 90, "a small CNN learns the digits: " + r.out());
        CliTest.Result e = CliTest.run("eval", "--model", run.resolve("model.safetensors").toString());
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("accuracy " + m.group(1) + "%"), "eval of the saved model (running statistics, eval mode) gives "
                + "the training run's test accuracy: " + e.out() + " vs " + r.out());
    }
}
