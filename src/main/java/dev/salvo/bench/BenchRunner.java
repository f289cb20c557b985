package dev.salvo.bench;

import dev.salvo.data.Dataset;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import dev.salvo.util.Rng;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs the measurements of {@code salvo bench} on one device: training passes through the ordinary
 * {@link Trainer} and the matmul sweep through the matmul op ({@link MatmulOps#MATMUL}).
 *
 * <p>Training a model on a device: a short probe (5 steps) and a warm-up (up to
 * {@code warmupSteps}, within {@code maxWarmupSeconds}) run first and are not counted; then
 * {@code repeat} timed passes, each a fresh {@link Trainer} (fresh AdamW state, cosine schedule over
 * the pass) from the same initial parameters, over a whole epoch, or over its first
 * {@code steps} steps when given, or over as many steps as fit in {@code maxEpochSeconds} (judged
 * from the warm-up's pace) when a whole epoch would take longer; the epoch time is then
 * extrapolated from the samples per second. Last, a separate profiling pass of up to
 * {@code profileSteps} steps runs on a {@link TimingDevice} and gives the shares, and, for a network
 * with conv2d layers, each conv layer's forward and backward GFLOP/s ({@link ConvProfiler}).
 */
public final class BenchRunner {

    /**
     * A training recipe. {@link #fashionMnist}: Salvo's Fashion-MNIST recipe (README, "The
     * Fashion-MNIST recipe"): {@code --optimizer adamw --lr 0.001 --batch-size 128} with the train
     * command's defaults for everything else (cosine schedule to 0, no warm-up, AdamW weight decay
     * 0.01, seed 1, pixels / 255). {@link #fashionCnn}: the CNN's ({@code nets/fashion-cnn.json}):
     * AdamW lr 0.002, weight decay 0.05, cosine, standardized inputs.
     *
     * @param standardize whether the inputs are standardized per feature (the caller does it: the
     *                    runner trains on the data it is given)
     */
    public record Recipe(Optimizer.Adam optimizer, double learningRate, Schedule schedule, int batchSize, long seed,
                         boolean standardize) {

        /** The recipe with {@code batchSize} rows per step. */
        public static Recipe fashionMnist(int batchSize) {
            // the same parsers and defaults as `salvo train --optimizer adamw --schedule cosine`
            Optimizer.Adam adamw = (Optimizer.Adam) Optimizer.parse("adamw", null, null);
            Schedule cosine = Schedule.parse("cosine", 0, 10, 0.1, 0.0);
            return new Recipe(adamw, 1e-3, cosine, batchSize, 1, false);
        }

        /**
         * The CNN recipe with {@code batchSize} rows per step: {@code salvo train --net fashion-cnn.json
         * --optimizer adamw --lr 0.002 --weight-decay 0.05 --normalize standardize}, cosine, seed 1.
         */
        public static Recipe fashionCnn(int batchSize) {
            Optimizer.Adam adamw = (Optimizer.Adam) Optimizer.parse("adamw", null, 0.05);
            Schedule cosine = Schedule.parse("cosine", 0, 10, 0.1, 0.0);
            return new Recipe(adamw, 2e-3, cosine, batchSize, 1, true);
        }

        TrainConfig config() {
            return TrainConfig.defaults().withOptimizer(optimizer).withLearningRate(learningRate).withSchedule(schedule)
                    .withBatchSize(batchSize).withEpochs(1).withSeed(seed);
        }

        public String describe() {
            return optimizer.describe() + ", lr " + learningRate + " " + schedule.describe() + ", batch " + batchSize
                    + ", seed " + seed + (standardize ? ", standardized inputs" : "");
        }
    }

    /**
     * How much to measure.
     *
     * @param warmupSteps      training steps before timing (0: only the 5-step probe)
     * @param maxWarmupSeconds bound on the warm-up
     * @param steps            timed steps per pass; 0 for a whole epoch
     * @param maxEpochSeconds  with {@code steps == 0}: a pass that would take longer runs fewer steps
     * @param repeat           timed passes per model
     * @param profileSteps     steps of the profiling pass (bounded by {@code maxEpochSeconds} too)
     * @param sweepSeconds     time budget of each matmul size (at least one sample is taken)
     */
    public record Options(int warmupSteps, double maxWarmupSeconds, int steps, double maxEpochSeconds, int repeat,
                          int profileSteps, double sweepSeconds) {
        public Options {
            if (warmupSteps < 0 || steps < 0 || repeat < 1 || profileSteps < 1
                    || !(maxWarmupSeconds >= 0) || !(maxEpochSeconds > 0) || !(sweepSeconds >= 0)) {
                throw new IllegalArgumentException("bad bench options " + warmupSteps + " " + steps + " " + repeat);
            }
        }
    }

    private static final int PROBE_STEPS = 5;
    private static final int MIN_STEPS = 10;
    private static final int MAX_SAMPLES = 7;
    private static final double SAMPLE_SECONDS = 0.25;

    private final Recipe recipe;
    private final Options options;
    private final Consumer<String> log;

    /** {@code log} receives one progress line at a time. */
    public BenchRunner(Recipe recipe, Options options, Consumer<String> log) {
        this.recipe = recipe;
        this.options = options;
        this.log = log;
    }

    /** What {@link #train} measured: the training row, and one row per conv2d layer (none for an MLP). */
    public record Run(BenchResults.Training training, List<BenchResults.Conv> conv) {
        public Run {
            conv = List.copyOf(conv);
        }
    }

    /** Trains {@code model} on {@code train} on {@code device}; see the class comment. */
    public Run train(Device device, BenchModel model, Dataset train) {
        NetworkSpec net = model.spec();
        if (train.width() != net.inputs()) {
            throw new IllegalArgumentException(model.name() + " takes " + net.inputs() + " features, the data has "
                    + train.width());
        }
        int batch = recipe.batchSize();
        int rows = train.rows();
        int stepsPerEpoch = (rows + batch - 1) / batch;
        TrainConfig config = recipe.config();
        String id = device.info().id();
        float[] initial = Model.initialParameters(net, recipe.seed());
        double perStep;
        int warm;
        int timedSteps;
        Stats seconds;
        Stats rate;
        double meanLoss;
        try (Model m = new Model(device, net, initial, batch)) {
            int probe = Math.min(PROBE_STEPS, stepsPerEpoch);
            perStep = pass(m, config, head(train, probe * batch)).seconds() / probe;
            warm = options.warmupSteps() == 0 ? 0 : (int) Math.min(Math.min(options.warmupSteps(), stepsPerEpoch),
                    Math.max(1, Math.floor(options.maxWarmupSeconds() / perStep)));
            if (warm > 0) {
                perStep = pass(m, config, head(train, warm * batch)).seconds() / warm;
            }
            log.accept(String.format(java.util.Locale.ROOT, "%s %s: warm-up %d steps, %.1f ms/step", id, model.name(),
                    warm, 1e3 * perStep));
            if (options.steps() > 0) {
                timedSteps = Math.min(options.steps(), stepsPerEpoch);
            } else if (perStep * stepsPerEpoch <= options.maxEpochSeconds()) {
                timedSteps = stepsPerEpoch;
            } else {
                timedSteps = (int) Math.min(stepsPerEpoch, Math.max(MIN_STEPS, Math.floor(options.maxEpochSeconds() / perStep)));
            }
            Dataset data = timedSteps == stepsPerEpoch ? train : head(train, timedSteps * batch);
            double[] secs = new double[options.repeat()];
            double[] sps = new double[options.repeat()];
            meanLoss = Double.NaN;
            for (int r = 0; r < options.repeat(); r++) {
                m.loadParameters(initial);
                History h = pass(m, config, data);
                sps[r] = h.samples() / h.seconds();
                secs[r] = rows / sps[r];
                meanLoss = h.epochs().get(h.epochs().size() - 1).trainLoss();
                log.accept(String.format(java.util.Locale.ROOT, "%s %s: pass %d/%d: %d steps in %.2f s, %.0f samples/s,"
                        + " mean loss %.4f", id, model.name(), r + 1, options.repeat(), h.steps(), h.seconds(), sps[r], meanLoss));
            }
            seconds = Stats.of(secs);
            rate = Stats.of(sps);
        }
        int profileSteps = (int) Math.max(1, Math.min(Math.min(options.profileSteps(), timedSteps),
                Math.floor(options.maxEpochSeconds() / perStep)));
        List<BenchResults.Conv> conv = new java.util.ArrayList<>();
        BenchResults.Profile profile = profile(device, net, initial, head(train, Math.min(rows, profileSteps * batch)),
                model.name(), conv);
        log.accept(String.format(java.util.Locale.ROOT, "%s %s: synchronized profile of %d steps: matmul %.0f%%,"
                + " elementwise %.0f%%, host %.0f%%", id, model.name(), profile.steps(), 100 * profile.matmul(),
                100 * profile.elementwise(), 100 * profile.host()));
        for (BenchResults.Conv c : conv) {
            log.accept(String.format(java.util.Locale.ROOT, "%s %s %s conv2d %s: forward %.1f GFLOP/s, backward %.1f"
                    + " GFLOP/s (median of %d calls)", id, model.name(), c.layer(), c.shape(), c.forwardGflops().median(),
                    c.backwardGflops().median(), c.forwardGflops().values().size()));
        }
        return new Run(new BenchResults.Training(id, device.info().name(), model.name(), model.layers(), net.describe(),
                batch, rows, stepsPerEpoch, timedSteps, warm, timedSteps != stepsPerEpoch, seconds, rate, meanLoss, profile),
                conv);
    }

    /** One epoch over {@code data} with a fresh trainer (fresh optimizer state and schedule). */
    private static History pass(Model m, TrainConfig config, Dataset data) {
        try (Trainer t = new Trainer(m, config)) {
            return t.fit(data, null, TrainListener.NONE);
        }
    }

    private BenchResults.Profile profile(Device device, NetworkSpec net, float[] initial, Dataset data, String model,
                                         List<BenchResults.Conv> conv) {
        TimingDevice timing = new TimingDevice(device);
        ConvProfiler convs = new ConvProfiler(timing);
        NetworkSpec timed = convs.wrap(net);
        try (Model m = new Model(timing, timed, initial, recipe.batchSize());
             Trainer t = new Trainer(m, recipe.config())) {
            timing.reset();
            convs.reset();
            long t0 = System.nanoTime();
            History h = t.fit(data, null, TrainListener.NONE);
            double wall = (System.nanoTime() - t0) / 1e9;
            double mm = timing.seconds(TimingDevice.Kind.MATMUL);
            double ew = timing.seconds(TimingDevice.Kind.ELEMENTWISE);
            Map<String, BenchResults.OpTime> ops = new LinkedHashMap<>();
            // every op by its declared name, dashed (act_forward as act-forward), in declaration order, then the copies
            for (dev.salvo.device.Op op : dev.salvo.device.ops.Ops.ALL) {
                long[] a = timing.account(op);
                if (a[1] > 0) {
                    ops.put(op.name().replace('_', '-'), new BenchResults.OpTime(a[1], a[0] / 1e9));
                }
            }
            for (TimingDevice.Transfer tr : TimingDevice.Transfer.values()) {
                if (timing.calls(tr) > 0) {
                    ops.put(tr.jsonName(), new BenchResults.OpTime(timing.calls(tr), timing.seconds(tr)));
                }
            }
            conv.addAll(convs.results(device.info().id(), model, recipe.batchSize()));
            // op times are measured inside the wall time, so the host share is never negative
            double host = Math.max(0, wall - mm - ew);
            double total = mm + ew + host;
            return new BenchResults.Profile((int) h.steps(), wall, h.samples() / wall, mm / total, ew / total,
                    host / total, ops);
        }
    }

    /** The first {@code rows} rows of {@code d} (all of it when it has no more). */
    static Dataset head(Dataset d, int rows) {
        if (rows >= d.rows()) {
            return d;
        }
        int[] index = new int[rows];
        for (int i = 0; i < rows; i++) {
            index[i] = i;
        }
        return d.subset(d.name() + "-head" + rows, index);
    }

    /**
     * GFLOP/s of {@code C (n,n) = A (n,n) B (n,n)} on {@code device}: operands uploaded once, two
     * untimed calls (the first may compile), then samples of repeated calls each ended by a
     * synchronize, as many as fit in {@code sweepSeconds} (at least one, at most 7).
     */
    public BenchResults.Matmul matmul(Device device, int n) {
        Gemm g = Gemm.of(n, n, n);
        Rng rng = new Rng(1000L + n);
        float[] host = new float[n * n];
        DeviceBuffer a = device.allocFloat((long) n * n);
        DeviceBuffer b = null;
        DeviceBuffer c = null;
        try {
            b = device.allocFloat((long) n * n);
            c = device.allocFloat((long) n * n);
            for (DeviceBuffer x : new DeviceBuffer[] {a, b}) {
                for (int i = 0; i < host.length; i++) {
                    host[i] = (float) (2 * rng.nextDouble() - 1);
                }
                device.upload(host, x);
            }
            OpCall call = MatmulOps.matmul(g, a, b, null, Activation.IDENTITY, c, null);
            device.run(call);
            device.synchronize();
            long t0 = System.nanoTime();
            device.run(call);
            device.synchronize();
            double one = Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
            int calls = (int) Math.max(1, Math.ceil(SAMPLE_SECONDS / one));
            int samples = (int) Math.max(1, Math.min(MAX_SAMPLES, Math.floor(options.sweepSeconds() / (calls * one))));
            double[] gflops = new double[samples];
            for (int s = 0; s < samples; s++) {
                long s0 = System.nanoTime();
                for (int i = 0; i < calls; i++) {
                    device.run(call);
                }
                device.synchronize();
                gflops[s] = g.flops() * calls / ((System.nanoTime() - s0) / 1e9) / 1e9;
            }
            Stats st = Stats.of(gflops);
            log.accept(String.format(java.util.Locale.ROOT, "%s matmul n=%d: %.1f GFLOP/s", device.info().id(), n, st.median()));
            return new BenchResults.Matmul(device.info().id(), n, calls, st);
        } finally {
            for (DeviceBuffer x : new DeviceBuffer[] {a, b, c}) {
                if (x != null) {
                    x.close();
                }
            }
        }
    }
}
