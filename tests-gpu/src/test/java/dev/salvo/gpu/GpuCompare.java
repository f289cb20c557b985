package dev.salvo.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.bench.Stats;
import dev.salvo.data.Dataset;
import dev.salvo.data.StandardDatasets;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import dev.salvo.util.Rng;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.MatmulOps;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Salvo's side of the GPU comparison (issue 7): the same measurements as
 * {@code tests-gpu/pytorch_gpu_reference.py}, on a Salvo device, then one table of Salvo against
 * PyTorch with the ratio and the goal of each row.
 *
 * <pre>
 *   java ... dev.salvo.gpu.GpuCompare [--device cuda] [--torch torch.json] [--quick] [--repeat 5]
 * </pre>
 *
 * Timings are medians of {@code --repeat} runs after a warm-up, with [min-max]; every run ends with
 * {@link Device#synchronize()}. Step times come from {@link Trainer#fit} over synthetic data (loss
 * read back every 100 steps), the Fashion-MNIST epoch from the IDX files when they are present.
 */
public final class GpuCompare {

    /** A timing in seconds as "median ms [min-max]". */
    static String ms(Stats t) {
        return String.format(Locale.ROOT, "%.3f ms [%.3f-%.3f]", t.median() * 1e3, t.min() * 1e3, t.max() * 1e3);
    }

    /** One row of the table: what, Salvo's number, the reference's, and the goal on their ratio. */
    record Row(String what, String salvo, String torch, double ratio, String goal, boolean met) {
    }

    interface Body {
        void run();
    }

    private final Device device;
    private final int repeat;
    private final boolean quick;

    GpuCompare(Device device, int repeat, boolean quick) {
        this.device = device;
        this.repeat = repeat;
        this.quick = quick;
    }

    Stats time(int calls, Body body) {
        for (int i = 0; i < Math.min(3, calls); i++) {
            body.run();
        }
        device.synchronize();
        double[] s = new double[repeat];
        for (int r = 0; r < repeat; r++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                body.run();
            }
            device.synchronize();
            s[r] = (System.nanoTime() - t0) / 1e9 / calls;
        }
        return Stats.of(s);
    }

    private DeviceBuffer random(long n, Rng rng) {
        float[] h = new float[(int) n];
        for (int i = 0; i < h.length; i++) {
            h[i] = (float) rng.nextGaussian();
        }
        DeviceBuffer b = device.allocFloat(n);
        device.upload(h, b);
        return b;
    }

    /** GFLOP/s of the matmul op ({@link MatmulOps#MATMUL}) for one shape. */
    double matmulGflops(Gemm g) {
        Rng rng = new Rng(7);
        try (DeviceBuffer a = random(g.aLength(), rng); DeviceBuffer b = random(g.bLength(), rng);
             DeviceBuffer z = device.allocFloat(g.cLength())) {
            OpCall call = MatmulOps.matmul(g, a, b, null, Activation.IDENTITY, z, null);
            Stats t = time(quick ? 3 : 20, () -> device.run(call));
            return g.flops() / t.median() / 1e9;
        }
    }

    Stats adamStep(long parameters) {
        Rng rng = new Rng(3);
        try (DeviceBuffer w = random(parameters, rng); DeviceBuffer g = random(parameters, rng);
             DeviceBuffer m = device.allocFloat(parameters); DeviceBuffer v = device.allocFloat(parameters);
             DeviceBuffer flag = device.allocFloat(1)) {
            device.run(ElementwiseOps.fill(m, 0));
            device.run(ElementwiseOps.fill(v, 0));
            device.run(ElementwiseOps.fill(flag, 0));
            AdamStep s = new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0.01, true, 1);
            OpCall update = OptimizerOps.adam(w, g, m, v, s, flag);
            long[] step = {0};
            return time(quick ? 5 : 200, () -> device.run(OptimizerOps.set(update, s.at(1e-3, ++step[0]))));
        }
    }

    static NetworkSpec mlp(int... sizes) {
        NetworkSpec.Builder b = NetworkSpec.input(sizes[0]);
        for (int i = 1; i < sizes.length - 1; i++) {
            b = b.dense(sizes[i], Activation.RELU);
        }
        return b.dense(sizes[sizes.length - 1]).build();
    }

    static TrainConfig adamw(int batch) {
        return TrainConfig.defaults().withOptimizer(Optimizer.parse("adamw", null, 0.01)).withLearningRate(1e-3)
                .withSchedule(new Schedule.Cosine(0.0, 0)).withBatchSize(batch).withEpochs(1).withLossEvery(100);
    }

    /** Seconds per optimizer step of {@code net} at {@code batch} over synthetic data. */
    Stats step(NetworkSpec net, int batch, int steps) {
        Dataset data = Synthetic.clusters("bench", batch * steps, net.inputs(), net.outputs(), 5);
        return fits(net, batch, data, repeat, true);
    }

    /**
     * Seconds of {@code runs} one-epoch fits over {@code data}, each by a fresh {@link Trainer} (a
     * trainer's epoch count carries over between fits) on one model, after one warm-up fit that
     * compiles kernels and fills caches; per step when {@code perStep}.
     */
    Stats fits(NetworkSpec net, int batch, Dataset data, int runs, boolean perStep) {
        double[] s = new double[runs];
        try (Model model = new Model(device, net, 1, batch)) {
            for (int r = -1; r < runs; r++) {
                try (Trainer trainer = new Trainer(model, adamw(batch))) {
                    History h = trainer.fit(data, null, TrainListener.NONE);
                    if (r >= 0) {
                        s[r] = perStep ? h.seconds() / h.steps() : h.seconds();
                    }
                }
            }
        }
        return Stats.of(s);
    }

    /** Seconds per Fashion-MNIST epoch (784-512-256-10, batch 128, AdamW), or null without the files. */
    Stats fashionEpoch(Path dir) {
        Dataset train;
        try {
            train = StandardDatasets.load("fashion-mnist", dir).first();
        } catch (RuntimeException e) {
            System.err.println("fashion-mnist: " + e.getMessage() + "; epoch not measured");
            return null;
        }
        return fits(mlp(784, 512, 256, 10), 128, train, Math.max(1, repeat / 2), false);
    }

    static double torchSeconds(JsonNode n, String mode) {
        JsonNode m = n == null ? null : n.path(mode).path("median_s");
        return m == null || m.isMissingNode() ? Double.NaN : m.asDouble();
    }

    static double torchMatmul(JsonNode torch, String shape, int size, boolean tf32) {
        if (torch == null) {
            return Double.NaN;
        }
        for (JsonNode r : torch.path("matmul")) {
            if (r.path("shape").asText().equals(shape) && r.path("m").asInt() == size && r.path("tf32").asBoolean() == tf32) {
                return r.path("gflops").asDouble();
            }
        }
        return Double.NaN;
    }

    static Row speed(String what, double salvoGflops, double torchGflops, double atLeast) {
        double ratio = salvoGflops / torchGflops;
        return new Row(what, String.format(Locale.ROOT, "%.0f GFLOP/s", salvoGflops),
                String.format(Locale.ROOT, "%.0f GFLOP/s", torchGflops), ratio,
                String.format(Locale.ROOT, ">= %.2fx", atLeast), ratio >= atLeast);
    }

    static Row time(String what, Stats salvo, double torchSeconds, double atMost) {
        double ratio = salvo.median() / torchSeconds;
        return new Row(what, ms(salvo), String.format(Locale.ROOT, "%.3f ms", torchSeconds * 1e3), ratio,
                String.format(Locale.ROOT, "<= %.2fx", atMost), ratio <= atMost);
    }

    public static void main(String[] args) throws IOException {
        String spec = "cuda";
        Path torchJson = null;
        Path fashionDir = null;
        int repeat = 5;
        boolean quick = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> spec = args[++i];
                case "--torch" -> torchJson = Path.of(args[++i]);
                case "--fashion-dir" -> fashionDir = Path.of(args[++i]);
                case "--repeat" -> repeat = Integer.parseInt(args[++i]);
                case "--quick" -> quick = true;
                default -> {
                    System.err.println("GpuCompare: unknown option " + args[i]
                            + " (expected --device, --torch, --fashion-dir, --repeat, --quick)");
                    System.exit(2);
                }
            }
        }
        JsonNode torch = torchJson != null && Files.isRegularFile(torchJson) ? new ObjectMapper().readTree(torchJson.toFile()) : null;
        if (torch == null) {
            System.err.println("GpuCompare: no PyTorch results (" + torchJson + "); ratios will be NaN");
        }
        List<Row> rows = new ArrayList<>();
        try (Device device = Devices.open(spec).device()) {
            System.out.println("device: " + device.info().name());
            GpuCompare c = new GpuCompare(device, repeat, quick);
            int big = quick ? 1024 : 4096;
            rows.add(speed("matmul FP32 1024^3", c.matmulGflops(Gemm.of(1024, 1024, 1024)), torchMatmul(torch, "NN", 1024, false), 0.7));
            if (!quick) {
                rows.add(speed("matmul FP32 4096^3", c.matmulGflops(Gemm.of(4096, 4096, 4096)), torchMatmul(torch, "NN", 4096, false), 0.7));
                rows.add(speed("matmul FP32 X*W 4096", c.matmulGflops(new Gemm(big, big, big, false, false)), torchMatmul(torch, "X*W", big, false), 0.7));
                rows.add(speed("matmul FP32 dY*W^T 4096", c.matmulGflops(new Gemm(big, big, big, false, true)), torchMatmul(torch, "dY*W^T", big, false), 0.7));
                rows.add(speed("matmul FP32 X^T*dY 4096", c.matmulGflops(new Gemm(big, big, big, true, false)), torchMatmul(torch, "X^T*dY", big, false), 0.7));
            }
            double fp32 = spec.startsWith("cuda") ? c.matmulGflops(Gemm.of(big, big, big)) : Double.NaN;
            System.setProperty("salvo.cuda.matmul.tf32", "true");
            try (Device tc = spec.startsWith("cuda") ? Devices.open(spec).device() : null) {
                if (tc == null) {
                    throw new IllegalStateException("tensor cores are a CUDA option; device " + spec);
                }
                double tf32 = new GpuCompare(tc, repeat, quick).matmulGflops(Gemm.of(big, big, big));
                rows.add(speed("matmul TF32 " + big + "^3 vs our FP32", tf32, fp32, 2.0));
                rows.add(speed("matmul TF32 " + big + "^3 vs torch TF32", tf32, torchMatmul(torch, "NN", big, true), 0.7));
            } catch (RuntimeException e) {
                System.err.println("TF32 matmul not measured: " + e.getMessage());
            } finally {
                System.clearProperty("salvo.cuda.matmul.tf32");
            }
            long params = torch == null ? 269_322 : torch.path("adam").path("parameters").asLong(269_322);
            rows.add(time("AdamW step, " + params + " params", c.adamStep(params), torchSeconds(torch, "adam"), 1.0));
            Stats small = c.step(mlp(784, 256, 256, 10), 128, quick ? 20 : 400);
            rows.add(time("step 784-256-256-10 b128 vs eager", small, torchSeconds(torch == null ? null : torch.path("small_step"), "eager"), 0.5));
            rows.add(time("step 784-256-256-10 b128 vs graph", small, torchSeconds(torch == null ? null : torch.path("small_step"), "graph"), 1.0));
            Stats large = quick ? c.step(mlp(784, 1024, 1024, 10), 256, 5) : c.step(mlp(784, 4096, 4096, 10), 4096, 30);
            rows.add(time(quick ? "step 784-1024-1024-10 b256" : "step 784-4096-4096-10 b4096", large,
                    torchSeconds(torch == null ? null : torch.path("large_step"), "eager"), 1.1));
            Stats epoch = quick ? null : c.fashionEpoch(fashionDir);
            if (epoch != null) {
                JsonNode f = torch == null ? null : torch.path("fashion");
                rows.add(time("Fashion-MNIST epoch", epoch, f == null ? Double.NaN : f.path("median_s").asDouble(Double.NaN), 0.5));
            }
        }
        System.out.printf(Locale.ROOT, "%n| %-36s | %-28s | %-16s | %-7s | %-8s | %s |%n", "measurement", "Salvo", "PyTorch", "ratio", "goal", "met");
        System.out.println("|---|---|---|---|---|---|");
        for (Row r : rows) {
            System.out.printf(Locale.ROOT, "| %-36s | %-28s | %-16s | %7.2f | %-8s | %s |%n", r.what(), r.salvo(), r.torch(), r.ratio(), r.goal(),
                    Double.isNaN(r.ratio()) ? "n/a" : r.met() ? "yes" : "no");
        }
        System.out.println("\nNot built yet (issue 7): the whole-step CUDA graph (steps are launched op by op);"
                + " the FP32 matmul (matmul.local=2) has no float4 loads or warp tiling yet.");
    }
}
