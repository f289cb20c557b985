package dev.salvo.bench;

import dev.salvo.data.TextCorpus;
import dev.salvo.device.Device;
import dev.salvo.device.Op;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.EpochStats;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TextWindows;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The GPT measurements of {@code salvo bench --gpt} on one device: the baby-GPT recipe trained
 * through the ordinary {@link Trainer} on {@link TextWindows} (the path of {@code salvo train
 * --data text:PATH --gpt 4,4,128}), each step timed, the validation loss at the end, then a
 * separate synchronized profiling pass ({@link TimingDevice}) whose op times are grouped by family.
 *
 * <p>A step's time is the interval between the trainer's consecutive {@link TrainListener#onStep}
 * calls (the first from {@link TrainListener#onStart}): on the CPU device, whose ops run when
 * called, exactly the step; on a queueing device (OpenCL, CUDA) the rate the host issues steps,
 * which the device's pace bounds once its queue is full (the loss is read back every
 * {@code lossEvery} steps). The first {@code skipSteps} steps are not timed (the one-time uploads,
 * kernel compilation, allocator warm-up), nor is the evaluation, which runs after the last step.
 */
public final class GptBench {

    /**
     * The recipe: nanoGPT's baby GPT as issue 14 states it. {@link #babyGpt}: 4 layers, 4 heads,
     * 128 wide, context 64, batch 12, AdamW lr 1e-3, betas (0.9, 0.99), eps 1e-8, weight decay 0.1
     * on matrices and embeddings only, clipping at global norm 1.0, 100 warm-up steps then cosine to
     * 1e-4 at the last step, validation on at most 1000 fixed windows of the last 10% of the text,
     * seed 1.
     */
    public record Recipe(int layers, int heads, int embd, int context, int batchSize, int steps, double learningRate,
                         double minLearningRate, int warmup, double beta1, double beta2, double eps, double weightDecay,
                         double clipNorm, double valFraction, int evalWindows, long seed) {

        public Recipe {
            if (layers < 1 || heads < 1 || embd < 1 || context < 1 || batchSize < 1 || steps < 1 || evalWindows < 1 || warmup < 0) {
                throw new IllegalArgumentException("bad GPT recipe " + layers + "," + heads + "," + embd + " context " + context
                        + " batch " + batchSize + " steps " + steps);
            }
        }

        /** The baby GPT recipe over {@code steps} steps (2000 in the issue). */
        public static Recipe babyGpt(int steps, int batchSize) {
            return new Recipe(4, 4, 128, 64, batchSize, steps, 1e-3, 1e-4, 100, 0.9, 0.99, 1e-8, 0.1, 1.0, 0.1, 1000, 1);
        }

        /** This recipe with at most {@code n} validation windows. */
        public Recipe withEvalWindows(int n) {
            return new Recipe(layers, heads, embd, context, batchSize, steps, learningRate, minLearningRate, warmup, beta1, beta2,
                    eps, weightDecay, clipNorm, valFraction, n, seed);
        }

        /** AdamW with this recipe's betas, eps and (decoupled) weight decay. */
        public Optimizer.Adam optimizer() {
            return new Optimizer.Adam(beta1, beta2, eps, weightDecay, true);
        }

        /** Linear warm-up then cosine to {@code minLearningRate} at the last step. */
        public Schedule schedule() {
            return new Schedule.Cosine(minLearningRate / learningRate, warmup);
        }

        /** The trainer's configuration: one epoch (validation once, at the end). */
        TrainConfig config() {
            return TrainConfig.defaults().withOptimizer(optimizer()).withLearningRate(learningRate).withSchedule(schedule())
                    .withBatchSize(batchSize).withEpochs(1).withSeed(seed).withClipNorm(clipNorm)
                    .withDecay(dev.salvo.nn.DecayPolicy.MATRICES);
        }

        /** {@link PyTorchReference#describeGpt} of this recipe. */
        public String model() {
            return PyTorchReference.describeGpt(layers, heads, embd, context);
        }

        public String describe() {
            return model() + ", batch " + batchSize + ", " + steps + " steps, " + optimizer().describe() + " (betas " + beta1 + ", "
                    + beta2 + ", eps " + eps + ", weight decay " + weightDecay + " on matrices), clip " + clipNorm + ", lr "
                    + learningRate + " " + schedule().describe() + " to " + minLearningRate + ", seed " + seed;
        }

        /** The PyTorch script's options for this recipe on {@code text} with {@code threads} threads. */
        public List<String> pytorchArgs(Path text, int threads, int skipSteps) {
            return new ArrayList<>(List.of("--text", text.toString(), "--layers", Integer.toString(layers),
                    "--heads", Integer.toString(heads), "--embd", Integer.toString(embd), "--context", Integer.toString(context),
                    "--batch-size", Integer.toString(batchSize), "--steps", Integer.toString(steps),
                    "--lr", Double.toString(learningRate), "--min-lr", Double.toString(minLearningRate),
                    "--warmup", Integer.toString(warmup), "--beta1", Double.toString(beta1), "--beta2", Double.toString(beta2),
                    "--eps", Double.toString(eps), "--weight-decay", Double.toString(weightDecay),
                    "--clip-norm", Double.toString(clipNorm), "--val-fraction", Double.toString(valFraction),
                    "--eval-windows", Integer.toString(evalWindows), "--skip-steps", Integer.toString(skipSteps),
                    "--threads", Integer.toString(threads), "--seed", Long.toString(seed)));
        }
    }

    /** Op families the profile names; every other family is {@code other}. */
    public static final List<String> GROUPS = List.of("matmul", "attention", "layernorm", "optimizer");

    private final Recipe recipe;
    private final int skipSteps;
    private final int profileSteps;
    private final Consumer<String> log;

    /**
     * @param skipSteps    first steps not timed (at most steps - 1 are skipped)
     * @param profileSteps steps of the synchronized profile pass (after as many untimed ones as skipped)
     * @param log          one progress line at a time
     */
    public GptBench(Recipe recipe, int skipSteps, int profileSteps, Consumer<String> log) {
        if (skipSteps < 0 || profileSteps < 1) {
            throw new IllegalArgumentException("skip steps " + skipSteps + ", profile steps " + profileSteps);
        }
        this.recipe = recipe;
        this.skipSteps = skipSteps;
        this.profileSteps = profileSteps;
        this.log = log;
    }

    /** Timing of a step as {@link BenchResults.Gpt#timing()} says it. */
    static final String TIMING = "each training step from the trainer's step callbacks (batch gather, forward, backward,"
            + " clipping, AdamW; the loss read back every loss-every steps); on a queueing device the rate steps are issued,"
            + " bounded by the device's pace; the first skipped steps and the evaluation not timed";

    /** Trains the recipe's GPT ({@code net}) on {@code corpus} on {@code device}; see the class comment. */
    public BenchResults.Gpt run(Device device, NetworkSpec net, TextCorpus corpus) {
        long wall0 = System.nanoTime();
        String id = device.info().id();
        TextWindows text = windows(corpus, recipe.steps(), recipe.evalWindows());
        int skip = Math.min(skipSteps, recipe.steps() - 1);
        double[] step = new double[recipe.steps()];
        double[] lastLosses = new double[1];
        List<Double> losses = new ArrayList<>();
        long[] clock = new long[2]; // {last callback, first callback}
        TrainListener timer = new TrainListener() {
            @Override
            public void onStart(int epochs, int stepsPerEpoch, int trainRows) {
                clock[0] = System.nanoTime();
                clock[1] = clock[0];
            }

            @Override
            public void onStep(int epoch, long s, int rows) {
                long now = System.nanoTime();
                if (s < step.length) {
                    step[(int) s] = (now - clock[0]) / 1e9;
                }
                clock[0] = now;
                if (s % 100 == 0 || s == step.length - 1) {
                    log.accept(String.format(Locale.ROOT, "%s gpt: step %d/%d, %.1f ms", id, s + 1, step.length, 1e3 * step[(int) s]));
                }
            }

            @Override
            public void onLoss(long s, double loss) {
                losses.add(loss);
                lastLosses[0] = loss;
            }
        };
        History h;
        long parameters;
        try (Model m = new Model(device, net, recipe.seed(), capacity(text));
             Trainer t = new Trainer(m, recipe.config())) {
            parameters = m.layout().count();
            h = t.fit(text, timer, null);
        }
        double trainSeconds = (clock[0] - clock[1]) / 1e9;
        EpochStats last = h.epochs().get(h.epochs().size() - 1);
        double wall = (System.nanoTime() - wall0) / 1e9;
        double[] timed = java.util.Arrays.copyOfRange(step, skip, step.length);
        BenchResults.Spread st = BenchResults.Spread.of(timed);
        List<Double> tail = losses.subList(Math.max(0, losses.size() - 100), losses.size());
        double finalLoss = tail.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        log.accept(String.format(Locale.ROOT, "%s gpt: %d steps in %.1f s, median %.1f ms/step (%.0f tokens/s), validation loss"
                + " %.4f; median ms/step per %d steps: %s", id, h.steps(), trainSeconds, 1e3 * st.median(), tokens() / st.median(),
                last.valLoss(), BenchResults.Gpt.BLOCK, String.join(" ", BenchResults.Gpt.blockMedians(step, skip).stream()
                        .map(v -> String.format(Locale.ROOT, "%.1f", 1e3 * v)).toList())));
        BenchResults.GptProfile profile = profile(device, net, corpus);
        log.accept(String.format(Locale.ROOT, "%s gpt: synchronized profile of %d steps: %s", id, profile.steps(),
                String.join(", ", profile.shares().entrySet().stream()
                        .map(e -> String.format(Locale.ROOT, "%s %.0f%%", e.getKey(), 100 * e.getValue())).toList())));
        return new BenchResults.Gpt(id, device.info().name(), recipe.model(), parameters, recipe.batchSize(), recipe.context(),
                (int) h.steps(), skip, st, st.rate(tokens()), trainSeconds, wall, last.valLoss(),
                text.validationStarts().length, finalLoss, profile, TIMING, BenchResults.Gpt.blockMedians(step, skip));
    }

    private int tokens() {
        return recipe.batchSize() * recipe.context();
    }

    private TextWindows windows(TextCorpus corpus, int steps, int evalWindows) {
        return new TextWindows(corpus.name(), corpus.tokens(), corpus.trainLength(), corpus.vocabulary().size(), recipe.context(),
                steps, steps, evalWindows);
    }

    /** Rows the model holds: a batch, or up to four batches of validation windows (as salvo train). */
    private int capacity(TextWindows text) {
        int b = recipe.batchSize();
        return Math.max(b, Math.min(b * 4, Math.max(1, text.validationStarts().length)));
    }

    /**
     * A fresh model trained for {@code skip + profileSteps} steps on a {@link TimingDevice}; the
     * accounts cover the last {@code profileSteps} steps (reset at the end of the skipped ones, read
     * at the end of the last one: the evaluation after it is not counted).
     */
    private BenchResults.GptProfile profile(Device device, NetworkSpec net, TextCorpus corpus) {
        int skip = Math.max(1, Math.min(skipSteps, 5));
        int total = skip + profileSteps;
        TextWindows text = windows(corpus, total, 1);
        TimingDevice timing = new TimingDevice(device);
        Map<Op, long[]> accounts = new LinkedHashMap<>();
        long[] transfers = new long[4];
        long[] clock = new long[2];
        TrainListener snap = new TrainListener() {
            @Override
            public void onStep(int epoch, long s, int rows) {
                if (s == skip - 1) {
                    timing.reset();
                    clock[0] = System.nanoTime();
                } else if (s == total - 1) {
                    clock[1] = System.nanoTime();
                    for (Op op : timing.calledOps()) {
                        accounts.put(op, timing.account(op));
                    }
                    for (TimingDevice.Transfer tr : TimingDevice.Transfer.values()) {
                        transfers[2 * tr.ordinal()] = timing.calls(tr);
                        transfers[2 * tr.ordinal() + 1] = Math.round(timing.seconds(tr) * 1e9);
                    }
                }
            }
        };
        try (Model m = new Model(timing, net, recipe.seed(), capacity(text));
             Trainer t = new Trainer(m, recipe.config())) {
            t.fit(text, snap, null);
        }
        double wall = (clock[1] - clock[0]) / 1e9;
        return profileOf(profileSteps, wall, accounts, transfers);
    }

    /**
     * Groups op accounts ({@code {nanos, calls}} per op) by family into the shares of {@code wall}:
     * {@link #GROUPS}, {@code other} for every other family, {@code host} for the rest of the wall
     * time (never negative). {@code transfers}: calls and nanos of uploads then downloads.
     */
    static BenchResults.GptProfile profileOf(int steps, double wall, Map<Op, long[]> accounts, long[] transfers) {
        Map<String, Double> families = new LinkedHashMap<>();
        Map<String, BenchResults.OpTime> ops = new LinkedHashMap<>();
        double opSeconds = 0;
        for (Op op : dev.salvo.device.ops.Ops.ALL) { // declaration order
            long[] a = accounts.get(op);
            if (a == null || a[1] == 0) {
                continue;
            }
            double s = a[0] / 1e9;
            opSeconds += s;
            families.merge(op.family(), s, Double::sum);
            ops.put(op.name().replace('_', '-'), new BenchResults.OpTime(a[1], s));
        }
        for (TimingDevice.Transfer tr : TimingDevice.Transfer.values()) {
            long calls = transfers[2 * tr.ordinal()];
            if (calls > 0) {
                ops.put(tr.jsonName(), new BenchResults.OpTime(calls, transfers[2 * tr.ordinal() + 1] / 1e9));
            }
        }
        double total = Math.max(wall, opSeconds); // op times are measured inside the wall time
        Map<String, Double> shares = new LinkedHashMap<>();
        double other = opSeconds;
        for (String g : GROUPS) {
            double s = families.getOrDefault(g, 0.0);
            shares.put(g, total > 0 ? s / total : 0);
            other -= s;
        }
        shares.put("other", total > 0 ? Math.max(0, other) / total : 0);
        shares.put("host", total > 0 ? (total - opSeconds) / total : 0);
        return new BenchResults.GptProfile(steps, wall, shares, families, ops);
    }
}
