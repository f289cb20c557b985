package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.train.RunFolder;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BenchCommandTest {

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Result(code, out.toString(), err.toString());
    }

    @Test
    void quickRunOnTheCpuWritesASaneReport(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("bench");
        Result r = run("bench", "--quick", "--device", "cpu", "--no-reference", "--synthetic", "--models", "fashion-mlp",
                "--steps", "6", "--warmup-steps", "3", "--profile-steps", "4", "--sizes", "32,48", "--out", dir.toString());
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("synchronized profile"), r::out);
        assertTrue(r.out().contains("fashion-mlp"), r::out);

        JsonNode j = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertEquals(1, j.path("format").asInt());
        assertTrue(j.path("complete").asBoolean(), "a finished run says so");
        JsonNode machine = j.path("machine");
        assertEquals(Runtime.getRuntime().availableProcessors(), machine.path("cores").asInt());
        assertFalse(machine.path("cpu").asText().isBlank());
        assertTrue(machine.path("jdk").asText().contains(Runtime.version().feature() + ""), () -> machine.toString());
        assertFalse(machine.path("os").asText().isBlank());
        assertFalse(j.path("date").asText().isBlank());
        // what the README quotes for a figure: machine (CPU model and family), date, command, Java
        assertEquals(Runtime.version().toString(), machine.path("java_version").asText(), machine::toString);
        if (Files.isReadable(Path.of("/proc/cpuinfo")) && Files.readString(Path.of("/proc/cpuinfo")).contains("cpu family")) {
            assertTrue(machine.path("cpu_family").isInt(), machine::toString);
            assertTrue(machine.path("cpu_model").isInt(), machine::toString);
            assertFalse(machine.path("cpu_vendor").asText().isBlank(), machine::toString);
        }
        JsonNode fma = machine.path("fma_peak");
        assertFalse(fma.path("method").asText().isBlank(), machine::toString);
        if (dev.salvo.device.cpu.CpuGemm.vectorApiAvailable()) {
            assertTrue(fma.path("gflops_1_thread").path("max").asDouble() > 0, fma::toString);
            assertTrue(fma.path("gflops_all_threads").path("max").asDouble() > 0, fma::toString);
            assertEquals(Runtime.getRuntime().availableProcessors(), fma.path("threads").asInt(), fma::toString);
        }
        assertTrue(j.path("command").asText().startsWith("salvo bench --quick --device cpu"), j::toString);
        assertTrue(j.path("command").asText().contains("--out " + dir), j::toString);
        for (String printed : new String[] {"machine: ", "date:    ", "command: salvo bench --quick", "java:    ", "fma:     "}) {
            assertTrue(r.out().contains(printed), () -> "prints " + printed + ": " + r.out());
        }
        assertTrue(j.path("data").path("synthetic").asBoolean());
        assertEquals(4096, j.path("data").path("rows").asInt());
        assertEquals(0.01, j.path("recipe").path("weight_decay").asDouble());
        assertEquals("skipped", j.path("references").get(0).path("status").asText());

        JsonNode training = j.path("training");
        assertEquals(1, training.size(), training::toString);
        JsonNode t = training.get(0);
        assertEquals("cpu:0", t.path("source").asText());
        assertEquals("fashion-mlp", t.path("model").asText());
        assertEquals(128, t.path("batch_size").asInt());
        assertEquals(6, t.path("steps_timed").asInt());
        assertEquals(32, t.path("steps_per_epoch").asInt());
        assertTrue(t.path("extrapolated").asBoolean());
        double sps = t.path("samples_per_second").path("median").asDouble();
        double spe = t.path("seconds_per_epoch").path("median").asDouble();
        assertTrue(sps > 0 && Double.isFinite(sps), t::toString);
        assertEquals(4096, sps * spe, 1e-6 * 4096, "an epoch is its rows at the measured rate");
        double loss = t.path("mean_loss").asDouble();
        assertTrue(loss > 0 && loss < 10, () -> "loss " + loss);

        JsonNode p = t.path("profile");
        assertEquals(4, p.path("steps").asInt());
        double mm = p.path("matmul").asDouble();
        double ew = p.path("elementwise").asDouble();
        double host = p.path("host").asDouble();
        for (double share : new double[] {mm, ew, host}) {
            assertTrue(share >= 0 && share <= 1, p::toString);
        }
        assertEquals(1.0, mm + ew + host, 1e-9, p::toString);
        assertTrue(mm > 0 && ew > 0, p::toString);
        JsonNode ops = p.path("ops");
        // 3 dense layers: 3 forward products, 3 weight gradients, 2 input gradients per step
        assertEquals(4 * 8, ops.path("matmul").path("calls").asInt(), ops::toString);
        assertEquals(4, ops.path("adam-update").path("calls").asInt(), ops::toString);
        // residency: the data set is resident (--resident-data auto): features, labels and the epoch's
        // order go up once, each step gathers its batch (features, labels) on the device, the loss comes back
        assertTrue(ops.path("upload").path("calls").asInt() <= 3, ops::toString);
        assertEquals(4 * 2, (ops.path("gather-rows-f").path("calls").asInt() + ops.path("gather-rows-i").path("calls").asInt()), ops::toString);
        assertEquals(4, ops.path("download").path("calls").asInt(), ops::toString);

        JsonNode mmRows = j.path("matmul");
        List<Integer> sizes = new ArrayList<>();
        for (JsonNode m : mmRows) {
            assertEquals("cpu:0", m.path("source").asText());
            sizes.add(m.path("n").asInt());
            JsonNode g = m.path("gflops");
            assertTrue(g.path("min").asDouble() > 0, g::toString);
            assertTrue(g.path("min").asDouble() <= g.path("median").asDouble()
                    && g.path("median").asDouble() <= g.path("max").asDouble(), g::toString);
        }
        assertEquals(List.of(32, 48), sizes);
        assertEquals(RunFolder.plottingAvailable(), Files.isRegularFile(dir.resolve("bench.png")));
        if (RunFolder.plottingAvailable()) {
            byte[] png = Files.readAllBytes(dir.resolve("bench.png"));
            assertTrue(png.length > 1000 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G', "a PNG file");
        }
    }

    @Test
    void aReferenceRunsWithoutTheBlasOverridesAndItsKernelIsRecorded(@TempDir Path tmp) throws Exception {
        Path fake = dev.salvo.FakePython.write(tmp, List.of("fashion-mlp"));
        Path dir = tmp.resolve("with space");
        Result r = run("bench", "--quick", "--device", "cpu", "--synthetic", "--models", "fashion-mlp", "--steps", "2",
                "--warmup-steps", "1", "--profile-steps", "1", "--sizes", "32", "--python", fake.toString(),
                "--out", dir.toString());
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertFalse(r.out().contains("SkylakeX"), "no core type is forced on the reference: " + r.out());
        assertTrue(r.out().contains("BLAS OpenBLAS"), r::out);
        JsonNode j = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(j.path("command").asText().endsWith("--out '" + dir + "'"), () -> "quoted as a shell would: " + j.path("command"));
        JsonNode ref = j.path("references").get(0);
        assertEquals("ok", ref.path("status").asText(), ref::toString);
        JsonNode info = ref.path("info");
        JsonNode seen = info.path("env_seen");
        assertEquals(dev.salvo.FakePython.UNSET, seen.path("OPENBLAS_CORETYPE").asText(), seen::toString);
        assertEquals(dev.salvo.FakePython.UNSET, seen.path("OPENBLAS_L2_SIZE").asText(), seen::toString);
        assertEquals(System.getenv().getOrDefault("HOME", dev.salvo.FakePython.UNSET), seen.path("HOME").asText(),
                "the rest of the environment is passed on");
        assertEquals("FakeCore", info.path("blas_kernel").path("core").asText(), info::toString);
        assertTrue(info.has("environment_removed"), info::toString);
        assertTrue(ref.path("message").asText().contains("FakeCore"), ref::toString);
        assertEquals(1, j.path("comparisons").size(), j::toString);
    }

    @Test
    void anUnoptimizedReferenceBlasIsCalledOut() {
        java.io.StringWriter w = new java.io.StringWriter();
        dev.salvo.bench.BenchReport.warnAboutBlas(java.util.Map.of("blas_kernel", java.util.Map.of("library",
                "reference BLAS (netlib; no optimized kernels)", "optimized", false, "path", "/usr/lib/x/blas/libblas.so.3")),
                new PrintWriter(w, true));
        assertTrue(w.toString().contains("warning") && w.toString().contains("netlib") && w.toString().contains("libopenblas"),
                w::toString);
        java.io.StringWriter ok = new java.io.StringWriter();
        dev.salvo.bench.BenchReport.warnAboutBlas(java.util.Map.of("blas_kernel", java.util.Map.of("library", "OpenBLAS",
                "optimized", true)), new PrintWriter(ok, true));
        assertTrue(ok.toString().isEmpty(), ok::toString);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--device tpu|--device",
        "--device cpu,cpu|--device",
        "--device cpu:x|--device",
        "--sizes 0|--sizes",
        "--sizes 64,x|--sizes",
        "--sizes 100000|--sizes",
        "--repeat 0|--repeat",
        "--steps -1|--steps",
        "--warmup-steps -5|--warmup-steps",
        "--profile-steps 0|--profile-steps",
        "--max-epoch-seconds 0|--max-epoch-seconds",
        "--sweep-seconds NaN|--sweep-seconds",
        "--batch-size 0|--batch-size",
        "--models resnet|--models",
        "--models fashion-mlp,fashion-mlp|--models",
        "--models cnn,fashion-cnn|--models",
        "--frobnicate|--frobnicate"})
    void badOptionsAreOneLineNamingTheOptionWithExitCode2(String args, String option, @TempDir Path tmp) {
        List<String> a = new ArrayList<>(List.of("bench", "--quick", "--no-reference", "--synthetic", "--out", tmp.toString()));
        a.addAll(List.of(args.split(" ")));
        Result r = run(a.toArray(String[]::new));
        assertEquals(2, r.code(), r::err);
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), () -> "one line: " + msg);
        assertTrue(msg.contains(option), () -> "names " + option + ": " + msg);
        assertTrue(r.out().isEmpty(), () -> "nothing measured: " + r.out());
    }

    @Test
    void quickCnnRunOnTheCpuTimesItsConvLayers(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("cnn");
        Result r = run("bench", "--quick", "--device", "cpu", "--no-reference", "--synthetic", "--models", "cnn",
                "--batch-size", "8", "--steps", "2", "--warmup-steps", "1", "--profile-steps", "2", "--sizes", "16",
                "--out", dir.toString());
        assertEquals(0, r.code(), () -> r.out() + r.err());
        assertTrue(r.out().contains("standardized inputs; model fashion-cnn 1x28x28 random-hflip conv2d(32,3x3,p1,no-bias)"), r::out);
        assertTrue(r.out().contains("forward GFLOP/s") && r.out().contains("layers.5"), r::out);
        assertFalse(r.out().contains("fashion-mlp"), "--models cnn runs the CNN alone: " + r.out());

        JsonNode j = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertTrue(j.path("complete").asBoolean());
        assertTrue(j.path("recipe").isMissingNode(), "no MLP, no MLP recipe: " + j.path("recipe"));
        JsonNode rec = j.path("cnn_recipe");
        assertEquals(0.002, rec.path("learning_rate").asDouble(), rec::toString);
        assertEquals(0.05, rec.path("weight_decay").asDouble(), rec::toString);
        assertEquals(8, rec.path("batch_size").asInt(), rec::toString);
        assertEquals("standardized per feature", rec.path("inputs").asText());
        assertEquals(2, j.path("options").path("network_steps").asInt());
        assertFalse(Files.exists(dir.resolve("fashion-cnn.json")), "no reference, no network file for it");

        JsonNode training = j.path("training");
        assertEquals(1, training.size(), training::toString);
        JsonNode t = training.get(0);
        assertEquals("fashion-cnn", t.path("model").asText());
        assertTrue(t.path("network").asText().startsWith("1x28x28 random-hflip conv2d(32,3x3,p1,no-bias) batchnorm relu maxpool(2)"), t::toString);
        assertEquals(2, t.path("steps_timed").asInt());
        assertEquals(512, t.path("steps_per_epoch").asInt());
        assertTrue(t.path("extrapolated").asBoolean());
        double sps = t.path("samples_per_second").path("median").asDouble();
        assertEquals(4096, sps * t.path("seconds_per_epoch").path("median").asDouble(), 1e-6 * 4096);
        double loss = t.path("mean_loss").asDouble();
        assertTrue(loss > 0 && loss < 20, () -> "loss " + loss);
        JsonNode ops = t.path("profile").path("ops");
        // per step: 2 conv (1 product forward; 1 backward for the first, 2 for the second) + 2 dense (1 forward, 2 backward)
        assertEquals(2 * (5 + 6), ops.path("matmul").path("calls").asInt(), ops::toString);

        JsonNode conv = j.path("conv2d");
        assertEquals(2, conv.size(), conv::toString);
        JsonNode c1 = conv.get(0);
        JsonNode c2 = conv.get(1);
        assertEquals("cpu:0", c1.path("source").asText());
        assertEquals("layers.1", c1.path("layer").asText());
        assertEquals("layers.5", c2.path("layer").asText());
        assertEquals(8, c1.path("batch").asInt());
        assertEquals(List.of(1, 28, 28, 32, 28, 28), List.of(c1.path("channels").asInt(), c1.path("height").asInt(),
                c1.path("width").asInt(), c1.path("out_channels").asInt(), c1.path("out_height").asInt(), c1.path("out_width").asInt()));
        assertEquals(List.of(32, 14, 14, 64, 14, 14), List.of(c2.path("channels").asInt(), c2.path("height").asInt(),
                c2.path("width").asInt(), c2.path("out_channels").asInt(), c2.path("out_height").asInt(), c2.path("out_width").asInt()));
        assertFalse(c1.path("input_gradient").asBoolean());
        assertTrue(c2.path("input_gradient").asBoolean());
        assertEquals(2.0 * 8 * 32 * 28 * 28 * 1 * 9, c1.path("forward_flops").asDouble());
        assertEquals(c1.path("forward_flops").asDouble(), c1.path("backward_flops").asDouble());
        assertEquals(2.0 * 8 * 64 * 14 * 14 * 32 * 9, c2.path("forward_flops").asDouble());
        assertEquals(2 * c2.path("forward_flops").asDouble(), c2.path("backward_flops").asDouble());
        for (JsonNode c : conv) {
            assertEquals("fashion-cnn", c.path("model").asText());
            assertEquals(2, c.path("forward_gflops").path("values").size(), c::toString);
            assertTrue(c.path("forward_gflops").path("min").asDouble() > 0, c::toString);
            assertTrue(c.path("backward_gflops").path("min").asDouble() > 0, c::toString);
            double share = c.path("forward_gemm_share").asDouble();
            assertTrue(share > 0 && share <= 1, c::toString);
        }
    }

    @Test
    void theCnnReferenceRunsOnTheCnnRecipeFromTheSameNetworkFile(@TempDir Path tmp) throws Exception {
        Path log = tmp.resolve("calls.log");
        Path fake = fakeNetPython(tmp, log);
        Path dir = tmp.resolve("out");
        Result r = run("bench", "--quick", "--device", "cpu", "--synthetic", "--models", "fashion-mlp,cnn", "--batch-size", "8",
                "--steps", "1", "--warmup-steps", "0", "--profile-steps", "1", "--sizes", "16", "--python", fake.toString(),
                "--out", dir.toString());
        assertEquals(0, r.code(), () -> r.out() + r.err());
        List<String> calls = Files.readAllLines(log);
        assertEquals(2, calls.size(), "one run per recipe: " + calls);
        String mlp = calls.get(0);
        String cnn = calls.get(1);
        assertTrue(mlp.contains("--model fashion-mlp=784,512,256,10") && mlp.contains("--lr 0.001")
                && mlp.contains("--weight-decay 0.01") && mlp.contains("--sizes 16") && !mlp.contains("--net"), mlp);
        assertTrue(cnn.contains("--net fashion-cnn=" + dir.resolve("fashion-cnn.json")) && cnn.contains("--normalize standardize")
                && cnn.contains("--lr 0.002") && cnn.contains("--weight-decay 0.05") && cnn.contains("--batch-size 8")
                && cnn.contains("--synthetic 4096") && !cnn.contains("--model "), cnn);
        assertTrue(cnn.contains("--sizes  ") || cnn.endsWith("--sizes"), "the sweep ran with the MLPs: " + cnn);
        // the network file the reference builds from is the recipe's own
        assertEquals(dev.salvo.nn.NetworkJson.parse(Files.readString(dir.resolve("fashion-cnn.json"))),
                dev.salvo.bench.BenchModel.FASHION_CNN.spec());

        JsonNode j = new ObjectMapper().readTree(dir.resolve("bench.json").toFile());
        assertEquals(2, j.path("references").size(), j.path("references")::toString);
        JsonNode cmp = j.path("comparisons");
        assertEquals(2, cmp.size(), () -> j.path("references").toString());
        assertEquals(List.of("fashion-mlp", "fashion-cnn"), List.of(cmp.get(0).path("model").asText(), cmp.get(1).path("model").asText()));
        List<String> convSources = new ArrayList<>();
        for (JsonNode c : j.path("conv2d")) {
            convSources.add(c.path("source").asText() + " " + c.path("layer").asText());
        }
        assertEquals(List.of("cpu:0 layers.1", "cpu:0 layers.5", "pytorch layers.5"), convSources);
        assertTrue(r.out().contains("pytorch    fashion-cnn  layers.5"), r::out);
    }

    @Test
    void withoutFashionMnistTheBenchTimesSyntheticDataAndSaysSo(@TempDir Path tmp) throws Exception {
        Path saved = BenchCommand.defaultFashionDir;
        BenchCommand.defaultFashionDir = tmp.resolve("not-installed");
        try {
            Path dir = tmp.resolve("out");
            Result r = run("bench", "--quick", "--device", "cpu", "--no-reference", "--models", "fashion-mlp", "--steps", "1",
                    "--warmup-steps", "0", "--profile-steps", "1", "--sizes", "16", "--out", dir.toString());
            assertEquals(0, r.code(), () -> r.out() + r.err());
            assertTrue(r.err().contains("Fashion-MNIST is not installed"), r::err);
            assertTrue(r.out().contains("bench:  synthetic: 4096 rows"), r::out);
            JsonNode data = new ObjectMapper().readTree(dir.resolve("bench.json").toFile()).path("data");
            assertTrue(data.path("synthetic").asBoolean(), data::toString);
            assertEquals("synthetic", data.path("name").asText());
            assertTrue(data.path("origin").asText().contains("not installed") && data.path("origin").asText()
                    .contains("dataset-fashion-mnist"), data::toString);
        } finally {
            BenchCommand.defaultFashionDir = saved;
        }
        assertTrue(BenchCommand.fashionMissing(tmp).contains("train-images-idx3-ubyte"));
    }

    /**
     * A fake interpreter that appends its arguments to {@code log}, one line per run, and answers a
     * run with --net with a fashion-cnn row and one conv2d row, any other with a fashion-mlp row.
     */
    private static Path fakeNetPython(Path dir, Path log) throws java.io.IOException {
        String stats = "{\"values\":[%s]}";
        String mlp = "{\"reference\":\"pytorch\",\"torch_version\":\"0.0-fake\",\"threads\":1,\"training\":[{"
                + "\"model\":\"fashion-mlp\",\"layers\":[784,512,256,10],\"batch_size\":8,\"rows_per_epoch\":4096,"
                + "\"steps_per_epoch\":512,\"steps_timed\":1,\"warmup_steps\":0,\"extrapolated\":true,"
                + "\"seconds_per_epoch\":" + String.format(stats, "2.0") + ",\"samples_per_second\":"
                + String.format(stats, "2048.0") + ",\"mean_loss\":2.0}],"
                + "\"matmul\":[{\"n\":16,\"calls_per_sample\":1,\"gflops\":" + String.format(stats, "1.5") + "}]}";
        String cnn = "{\"reference\":\"pytorch\",\"torch_version\":\"0.0-fake\",\"threads\":1,\"training\":[{"
                + "\"model\":\"fashion-cnn\",\"layers\":[784,10],\"network\":\"fake cnn\",\"batch_size\":8,"
                + "\"rows_per_epoch\":4096,\"steps_per_epoch\":512,\"steps_timed\":1,\"warmup_steps\":0,"
                + "\"extrapolated\":true,\"seconds_per_epoch\":" + String.format(stats, "4.0") + ",\"samples_per_second\":"
                + String.format(stats, "1024.0") + ",\"mean_loss\":2.0}],\"matmul\":[],\"conv2d\":[{\"model\":"
                + "\"fashion-cnn\",\"layer\":\"layers.5\",\"batch\":8,\"channels\":32,\"height\":14,\"width\":14,"
                + "\"out_channels\":64,\"kernel\":3,\"stride\":1,\"pad\":1,\"out_height\":14,\"out_width\":14,"
                + "\"input_gradient\":true,\"forward_flops\":1.0,\"backward_flops\":2.0,\"forward_gflops\":"
                + String.format(stats, "9.0") + ",\"backward_gflops\":" + String.format(stats, "8.0") + "}]}";
        Path mlpJson = Files.writeString(dir.resolve("fake-mlp.json"), mlp + "\n");
        Path cnnJson = Files.writeString(dir.resolve("fake-cnn.json"), cnn + "\n");
        String script = "#!/bin/sh\n"
                + "if [ \"$1\" = \"-c\" ]; then exit 0; fi\n"
                + "echo \"$*\" >> '" + log + "'\n"
                + "case \"$*\" in *--net*) cat '" + cnnJson + "' ;; *) cat '" + mlpJson + "' ;; esac\n";
        Path f = dir.resolve("fake-net-python");
        Files.writeString(f, script);
        Files.setPosixFilePermissions(f, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return f;
    }

    @Test
    void anUnwritableOutFolderIsExit2BeforeAnyWork(@TempDir Path tmp) throws Exception {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Result r = run("bench", "--quick", "--no-reference", "--synthetic", "--device", "cpu", "--out", file.resolve("sub").toString());
        assertEquals(2, r.code(), r::err);
        assertTrue(r.err().contains("--out") && r.err().contains(file.toString()), r::err);
        assertTrue(r.out().isEmpty(), r::out);
    }

    @Test
    void missingFashionMnistSaysWhereToGetItAndOffersSynthetic(@TempDir Path tmp) {
        Result r = run("bench", "--quick", "--no-reference", "--device", "cpu", "--data-dir", tmp.resolve("none").toString(),
                "--out", tmp.resolve("out").toString());
        assertEquals(2, r.code(), r::err);
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), msg);
        assertTrue(msg.contains("--data-dir") && msg.contains("dataset-fashion-mnist") && msg.contains("--synthetic"), msg);
    }
}
