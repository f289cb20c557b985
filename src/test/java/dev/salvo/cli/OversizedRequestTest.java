package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.io.ModelFile;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, point 7: a batch larger than the data is sized to the rows there are, a real
 * out-of-memory is exit 3 with the bytes, and a Java heap too small for the dataset is exit 2
 * saying how to raise it.
 */
class OversizedRequestTest {

    private static final String HUGE = "1000000000";

    private static float[] params(Path model) {
        return ModelFile.load(model).parameters();
    }

    private static void oneLineNoStackTrace(CliTest.Result r) {
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
    }

    @Test
    void aBatchLargerThanTheDataTrainsOneFullBatchPerEpochAndResumes(@TempDir Path dir) {
        // digits: 1293 training rows after the 10% validation split
        CliTest.Result huge = CliTest.run("train", "--no-progress", "--device", "cpu", "-e", "2", "-b", HUGE,
                "--schedule", "constant", "--out", dir.resolve("huge").toString(), "--checkpoint-dir", dir.resolve("ck").toString());
        assertEquals(0, huge.code(), huge.err());
        assertTrue(huge.out().contains("1293 train"), huge.out());
        assertTrue(huge.out().contains(", 2 steps,"), "one step per epoch: " + huge.out());
        CliTest.Result exact = CliTest.run("train", "--no-progress", "--device", "cpu", "-e", "2", "-b", "1293",
                "--schedule", "constant", "--out", dir.resolve("exact").toString());
        assertEquals(0, exact.code(), exact.err());
        assertArrayEquals(params(dir.resolve("exact/model.safetensors")), params(dir.resolve("huge/model.safetensors")),
                "-b larger than the rows is one full batch of every row");

        CliTest.Result resumed = CliTest.run("train", "--no-progress", "--device", "cpu", "-e", "3", "-b", HUGE,
                "--schedule", "constant", "--out", dir.resolve("resumed").toString(), "--resume", dir.resolve("ck").toString());
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.out().contains("resume: after epoch 2, step 2"), resumed.out());
        CliTest.Result straight = CliTest.run("train", "--no-progress", "--device", "cpu", "-e", "3", "-b", HUGE,
                "--schedule", "constant", "--out", dir.resolve("straight").toString());
        assertEquals(0, straight.code(), straight.err());
        assertArrayEquals(params(dir.resolve("straight/model.safetensors")), params(dir.resolve("resumed/model.safetensors")),
                "2 epochs + resume + 1 epoch == 3 epochs");
    }

    @Test
    void evalAndPredictWithABatchLargerThanTheData(@TempDir Path dir) throws IOException {
        Path model = dir.resolve("m.safetensors");
        CliTest.Result t = CliTest.run("train", "--no-progress", "--device", "cpu", "-e", "1", "--out", dir.resolve("run").toString(),
                "--save", model.toString());
        assertEquals(0, t.code(), t.err());
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--device", "cpu", "-b", HUGE);
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().contains("359 rows"), e.out());
        Path csv = dir.resolve("x.csv");
        CliTest.featureRows(csv, 5);
        CliTest.Result p = CliTest.run("predict", "--model", model.toString(), "--input", csv.toString(), "--device", "cpu", "-b", HUGE);
        assertEquals(0, p.code(), p.err());
        assertEquals(6, p.out().strip().lines().count(), p.out());
    }

    @Test
    void aRealOutOfMemoryIsExit3WithTheBytesAskedAndTheMemoryFree(@TempDir Path dir) throws Exception {
        // a 48 MB heap: the hidden layer's activations for 1293 rows x 20000 units (103 MB) cannot fit
        // and 220 million initial weights (880 MB) cannot even be drawn on the host
        List<CliTest.Result> r = ChildCli.run(List.of(), List.of("-Xmx48m"), Map.of(), List.of(
                List.of("train", "--no-progress", "--device", "cpu", "-e", "1", "-b", HUGE, "--layers", "64,20000,10",
                        "--out", dir.resolve("a").toString()),
                List.of("train", "--no-progress", "--device", "cpu", "-e", "1", "--layers", "64,3000000,10",
                        "--out", dir.resolve("b").toString())));
        CliTest.Result oom = r.get(0);
        assertEquals(Main.EXIT_UNAVAILABLE, oom.code(), oom.err());
        oneLineNoStackTrace(oom);
        assertTrue(oom.err().contains("out of memory allocating") && oom.err().contains("free"), oom.err());
        assertTrue(oom.err().contains("103440000 bytes"), "the bytes asked: 4 x 1293 x 20000: " + oom.err());
        assertTrue(oom.err().contains("SALVO_JAVA_OPTS=-Xmx"), "how to raise the CPU device's memory: " + oom.err());
        CliTest.Result heap = r.get(1);
        assertEquals(Main.EXIT_USAGE, heap.code(), heap.err());
        oneLineNoStackTrace(heap);
        assertTrue(heap.err().contains("Java heap") && heap.err().contains("SALVO_JAVA_OPTS=-Xmx"), heap.err());
    }

    /** Plain IDX files of {@code rows} 28x28 images (and labels) under the MNIST names. */
    private static void writeIdx(Path dir, String prefix, int rows) throws IOException {
        try (OutputStream o = Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte"))) {
            o.write(ByteBuffer.allocate(16).putInt(0x00000803).putInt(rows).putInt(28).putInt(28).array());
            byte[] image = new byte[784];
            for (int i = 0; i < rows; i++) {
                image[i % 784] = (byte) i;
                o.write(image);
            }
        }
        try (OutputStream o = Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte"))) {
            o.write(ByteBuffer.allocate(8).putInt(0x00000801).putInt(rows).array());
            byte[] labels = new byte[rows];
            for (int i = 0; i < rows; i++) {
                labels[i] = (byte) (i % 10);
            }
            o.write(labels);
        }
    }

    @Test
    void aHeapTooSmallForTheDatasetIsExit2SayingHowMuchAndHowToRaiseIt(@TempDir Path dir) throws Exception {
        // 40,000 + 2,000 images of 784 pixels: 132 MB as floats, in a 48 MB heap
        Path idx = Files.createDirectories(dir.resolve("idx"));
        writeIdx(idx, "train", 40_000);
        writeIdx(idx, "t10k", 2_000);
        Path csv = dir.resolve("big.csv");
        try (var w = Files.newBufferedWriter(csv)) {
            String row = "1," .repeat(199) + "0\n"; // 199 features and a label
            for (int i = 0; i < 80_000; i++) {
                w.write(i % 2 == 0 ? row : row.substring(0, row.length() - 2) + "1\n");
            }
        }
        Path model = dir.resolve("m.safetensors");
        // a model of 784 inputs for eval and predict
        dev.salvo.nn.NetworkSpec net = dev.salvo.nn.NetworkSpec.input(784).dense(10).build();
        ModelFile.save(model, net, new float[784 * 10 + 10], dev.salvo.data.InputTransform.identity(784), Map.of("dataset", "mnist"));
        List<CliTest.Result> r = ChildCli.run(List.of(), List.of("-Xmx48m"), Map.of(), List.of(
                List.of("train", "--no-progress", "--device", "cpu", "--data", "mnist", "--data-dir", idx.toString(),
                        "--out", dir.resolve("run1").toString()),
                List.of("train", "--no-progress", "--device", "cpu", "--data", "csv:" + csv, "--out", dir.resolve("run2").toString()),
                List.of("eval", "--model", model.toString(), "--device", "cpu", "--data-dir", idx.toString()),
                List.of("predict", "--model", model.toString(), "--device", "cpu", "--input",
                        idx.resolve("train-images-idx3-ubyte").toString())));
        for (CliTest.Result x : r) {
            assertEquals(Main.EXIT_USAGE, x.code(), x.err());
            oneLineNoStackTrace(x);
            assertTrue(x.err().contains("SALVO_JAVA_OPTS=-Xmx"), "how to raise it: " + x.err());
            assertTrue(x.err().matches("(?s).*needs about \\d+ MB.*Java heap.* \\d+ MB.*"),
                    "how much it needs and has: " + x.err());
        }
        assertTrue(r.get(0).err().contains("42000 rows"), r.get(0).err());
        assertTrue(r.get(1).err().contains("80000 rows"), r.get(1).err());
    }
}
