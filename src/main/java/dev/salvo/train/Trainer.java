package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Trains a {@link Model} with mini-batch gradient descent, keeping everything on the device.
 *
 * <p>Allocated once, in the constructor: optimizer state (velocity or Adam moments), a buffer of
 * {@code lossEvery} loss slots and a one-element health flag. The training set is either resident
 * on the device (uploaded once per {@link #fit}; a step gathers its batch there by a row order
 * uploaded once per epoch and copies nothing in) or staged from the host (a step copies in its
 * batch: features and labels, plus one-hot targets under MSE); see {@link TrainConfig.ResidentData}.
 * Every {@code lossEvery} steps (and at the end of each epoch) the loss slots,
 * {@code 4 * lossEvery} bytes, come back. Parameters never leave the device during {@link #fit}.
 *
 * <p>A step allocates nothing on the host once the first steps made the views it reuses: device
 * views of the batch rows and loss slots, the optimizer's step value and the host arrays that
 * receive the losses are made once per trainer or per fit.
 *
 * <p>Each step writes its summed loss into its slot, marks the slot NaN if any gradient is
 * non-finite, and copies that verdict into the health flag; the optimizer kernels skip their update
 * while the flag is non-finite. So when a loss goes bad the model keeps the weights from before
 * that step, and the trainer replays the step to name the layer where it first went wrong.
 */
public final class Trainer implements AutoCloseable {

    private final Model model;
    private final TrainConfig config;
    private final Device device;
    private final DeviceBuffer lossSlots;
    private final DeviceBuffer health;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    /** {@code slots[j]}: loss slot j; {@code slotPrefix[n]}: slots {@code 0..n-1} (made on first use). */
    private final DeviceBuffer[] slots;
    private final DeviceBuffer[] slotPrefix;
    private final float[] slotHost;
    private final int[] slotRows;
    private final long[] slotStep;
    private final StepCalls calls;
    /** The optimizer update, built once. */
    private final OptimizerUpdate optimizer;
    /** Gradient clipping; null when off. */
    private final GradientClip clip;
    private double lastGradNorm = Double.NaN;
    private Rng shuffleRng;
    private Progress progress;
    private Batcher trainFeed;
    private Batcher evalFeed;
    /** A language model's feeds: training windows and the fixed validation windows, sharing one token buffer. */
    private final TextFeeds textFeeds;
    private DeviceBuffer best;
    private int benchCursor;
    private long benchStep;
    private volatile boolean stopRequested;
    private Map<String, String> checkpointInfo = Map.of();
    /** Data-parallel exchange; null in a single process. */
    private final DataParallel dp;
    private final boolean ownsDp;
    private final double[] lossScratch;
    /** SALVO_STEP_TRACE's per-step record; null when off. */
    private final StepTrace trace;

    public Trainer(Model model, TrainConfig config) {
        this(model, config, null);
    }

    /**
     * A trainer of one rank of a data-parallel job ({@code dp} null: a single process, which runs
     * the same step over {@link dev.salvo.dist.SingleProcess}, whose collectives do nothing). The batch
     * size of {@code config} is the global batch; the model's capacity needs only this rank's shard.
     */
    public Trainer(Model model, TrainConfig config, DataParallel dp) {
        int perRank = dp == null ? config.batchSize() : DataParallel.maxShard(config.batchSize(), dp.size());
        if (perRank > model.batchCapacity()) {
            throw new IllegalArgumentException("batch size " + perRank + (dp == null || dp.size() == 1 ? "" : " per rank")
                    + " exceeds the model's capacity "
                    + model.batchCapacity());
        }
        this.ownsDp = dp == null;
        this.dp = dp != null ? dp : DataParallel.single(model);
        this.model = model;
        this.config = config;
        this.device = model.device();
        this.textFeeds = new TextFeeds(model, config.batchSize(), perRank);
        int n = model.layout().size();
        int states = config.optimizer().stateBuffers();
        DeviceBuffer velocity = states == 1 ? zeros(n) : null;
        DeviceBuffer m1 = states == 2 ? zeros(n) : null;
        DeviceBuffer m2 = states == 2 ? zeros(n) : null;
        lossSlots = own(device.allocFloat(config.lossEvery()));
        health = own(device.allocFloat(1));
        int k = config.lossEvery();
        slots = new DeviceBuffer[k];
        for (int j = 0; j < k; j++) {
            slots[j] = lossSlots.slice(j, 1);
        }
        slotPrefix = new DeviceBuffer[k + 1];
        slotPrefix[k] = lossSlots;
        slotHost = new float[k];
        slotRows = new int[k];
        slotStep = new long[k];
        lossScratch = new double[k];
        trace = StepTrace.fromEnvironment(this.dp.rank());
        calls = new StepCalls(model, slots, health, perRank);
        clip = config.clipNorm() > 0 ? new GradientClip(model, config.clipNorm(), k, this::own) : null;
        optimizer = new OptimizerUpdate(model, config, velocity, m1, m2, clip == null ? null : clip.scale(), health);
        shuffleRng = new Rng(config.seed() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
    }

    /** The global gradient norm (before clipping) of the last step whose losses were read back; NaN when clipping is off. */
    public double lastGradNorm() {
        return lastGradNorm;
    }

    private DeviceBuffer own(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    private DeviceBuffer zeros(int n) {
        DeviceBuffer b = own(device.allocFloat(n));
        device.run(ElementwiseOps.fill(b, 0));
        return b;
    }

    public Model model() {
        return model;
    }

    /** Steps per epoch for {@code rows} training rows (the last batch may be partial). */
    public int stepsPerEpoch(int rows) {
        return (rows + config.batchSize() - 1) / config.batchSize();
    }

    /**
     * Trains on {@code train}, evaluating {@code validation} (may be null) after each epoch.
     *
     * @throws TrainingDivergedException when a loss or gradient becomes non-finite
     */
    public History fit(Dataset train, Dataset validation, TrainListener listener) {
        return fit(train, validation, listener, null);
    }

    /**
     * As {@link #fit(Dataset, Dataset, TrainListener)}, saving a checkpoint every
     * {@code checkpoints.everySteps()} steps when {@code checkpoints} is not null. After
     * {@link #resume}, continues from the checkpoint's exact step.
     */
    public History fit(Dataset train, Dataset validation, TrainListener listener, Checkpoint.Policy checkpoints) {
        checkFits(train);
        if (validation != null) {
            checkFits(validation);
        }
        if (train.rows() == 0) {
            throw new IllegalArgumentException(train.name() + ": the training set is empty");
        }
        if (model.spec().loss() == Loss.SOFTMAX_CROSS_ENTROPY && train.distinctLabels() < 2) {
            throw new IllegalArgumentException(train.name() + ": every training row has the same label; a classifier needs at least 2 classes");
        }
        int steps = stepsPerEpoch(train.rows());
        Batcher feed = trainFeed(train, validation);
        return fit(train.rows(), epoch -> steps, shuffleRng::shuffle, feed, validation == null ? null : () -> evaluate(validation),
                "training rows", listener, checkpoints);
    }

    /**
     * Trains a language model on windows of a token stream (see {@link TextWindows}): epochs of
     * {@link TextWindows#evalEvery()} steps of random windows, the validation windows evaluated
     * after each, {@link TextWindows#steps()} steps in all; the configuration's epochs must be
     * {@link TextWindows#epochs()}. Checkpoints, resume, the health check and early stopping work
     * as for a dataset; an epoch's window starts are its row order.
     */
    public History fit(TextWindows text, TrainListener listener, Checkpoint.Policy checkpoints) {
        TextFeeds.check(model, config, text);
        Batcher feed = textFeeds.feed(text);
        return fit(text.evalEvery() * config.batchSize(), text::stepsIn, order -> text.drawStarts(shuffleRng, order), feed,
                () -> evaluateText(text), "window starts per epoch", listener, checkpoints);
    }

    /**
     * The training loop over epochs of {@code stepsIn(epoch)} steps; each epoch starts with
     * {@code newEpoch} on the progress's order of {@code rows} (a shuffle, or an epoch's window
     * starts), and ends with {@code validate} (null: no validation).
     */
    private History fit(int rows, java.util.function.IntUnaryOperator stepsIn, java.util.function.Consumer<int[]> newEpoch,
                        Batcher feed, java.util.function.Supplier<Evaluation> validate, String rowsAre, TrainListener listener,
                        Checkpoint.Policy checkpoints) {
        int batch = config.batchSize();
        long total = 0;
        for (int e = 0; e < config.epochs(); e++) {
            total += stepsIn.applyAsInt(e);
        }
        int k = config.lossEvery();
        Progress p = progress;
        if (p == null) {
            p = new Progress(rows);
        } else if (p.order.length != rows) {
            throw new IllegalArgumentException("the checkpoint was taken on " + p.order.length + " " + rowsAre + ", this data has " + rows);
        }
        progress = p;
        boolean early = config.patience() > 0 && validate != null;
        if (early && best == null) {
            best = own(device.allocFloat(model.layout().size()));
            device.run(ElementwiseOps.copy(model.parameters(), best));
        }
        int steps = stepsIn.applyAsInt(0); // the first epoch's, which every epoch but a shorter last one has
        long start = System.nanoTime();
        long startSamples = p.samples;
        device.run(calls.clearHealth);
        listener.onStart(config.epochs(), steps, rows);
        boolean stoppedEarly = false;
        boolean interrupted = false;
        while (p.epoch < config.epochs()) {
            if (stopRequested) {
                interrupted = true;
                break;
            }
            if (p.stepInEpoch == 0) {
                newEpoch.accept(p.order);
                p.lossSum = 0;
                p.lossCount = 0;
                p.epochSeconds = 0;
            }
            feed.order(p.order); // resident data: the epoch's order goes up once, with its first batch
            long epochStart = System.nanoTime();
            int pending = 0;
            int epochSteps = stepsIn.applyAsInt(p.epoch);
            for (int s = p.stepInEpoch; s < epochSteps; s++) {
                int from = s * batch;
                int n = Math.min(batch, rows - from);
                p.lr = config.schedule().lr(config.learningRate(), p.step, total, p.epoch);
                step(feed, from, n, pending, p.lr, p.step + 1);
                slotRows[pending] = n;
                slotStep[pending] = p.step;
                pending++;
                p.step++;
                p.samples += n;
                p.stepInEpoch = s + 1;
                boolean checkpointDue = checkpoints != null && p.step % checkpoints.everySteps() == 0;
                boolean stopping = stopRequested && s < epochSteps - 1;
                if (pending == k || s == epochSteps - 1 || checkpointDue || stopping) {
                    readLosses(pending);
                    for (int j = 0; j < pending; j++) {
                        double loss = slotHost[j] / ((double) slotRows[j] * model.positions()); // the mean over every labelled position
                        if (!Double.isFinite(loss)) {
                            int badStep = (int) (slotStep[j] - (long) p.epoch * steps);
                            int lo = dp.shardStart(slotRows[j]);
                            int rowsHere = dp.shardEnd(slotRows[j]) - lo;
                            String where = "another rank's rows";
                            if (rowsHere > 0) {
                                feed.load(badStep * batch + lo, rowsHere);
                                where = model.locateNonFinite(rowsHere);
                            }
                            throw new TrainingDivergedException(p.epoch + 1, slotStep[j] + 1, badStep + 1, where);
                        }
                        p.lossSum += loss;
                        p.lossCount++;
                        listener.onLoss(slotStep[j], loss);
                        if (trace != null && j == pending - 1) {
                            trace.step(slotStep[j], loss, model);
                        }
                        if (clip != null) {
                            lastGradNorm = clip.norm(j);
                            listener.onGradNorm(slotStep[j], lastGradNorm);
                        }
                    }
                    pending = 0;
                }
                listener.onStep(p.epoch, p.step - 1, n);
                if (stopping) {
                    interrupted = true;
                    break;
                }
                if (checkpointDue) {
                    p.epochSeconds += (System.nanoTime() - epochStart) / 1e9;
                    epochStart = System.nanoTime();
                    if (p.stepInEpoch == epochSteps) {
                        break; // the epoch's end (validation, early stopping) happens below, then is checkpointed again
                    }
                    Checkpoint.save(checkpoints.file(), snapshot());
                    listener.onCheckpoint(checkpoints.file(), p.step);
                }
            }
            p.epochSeconds += (System.nanoTime() - epochStart) / 1e9;
            if (interrupted) {
                break; // mid-epoch: the epoch's figures stay in the progress (and its checkpoint)
            }
            Evaluation val = validate == null ? null : validate.get();
            long epochRows = Math.min((long) epochSteps * batch, rows);
            EpochStats es = new EpochStats(p.epoch + 1, p.lossSum / p.lossCount, val == null ? Double.NaN : val.loss(),
                    val == null ? Double.NaN : val.accuracy(), p.lr, p.epochSeconds, epochRows / p.epochSeconds);
            p.history.add(es);
            p.devices.add(device.info().id());
            listener.onEpoch(es);
            p.epoch++;
            p.stepInEpoch = 0;
            if (early) {
                if (val.loss() < p.bestLoss) {
                    p.bestLoss = val.loss();
                    p.sinceBest = 0;
                    device.run(ElementwiseOps.copy(model.parameters(), best));
                } else if (++p.sinceBest >= config.patience()) {
                    stoppedEarly = p.epoch < config.epochs();
                    p.epoch = config.epochs();
                }
            }
            boolean last = p.epoch >= config.epochs(); // the end of training always gets its checkpoint
            if (checkpoints != null && (p.step % checkpoints.everySteps() == 0 || checkpoints.atEpochEnd() || last)) {
                Checkpoint.save(checkpoints.file(), snapshot());
                listener.onCheckpoint(checkpoints.file(), p.step);
            }
        }
        int bestEpoch = p.history.isEmpty() ? 0 : p.history.get(p.history.size() - 1).epoch();
        if (early && !interrupted) { // an interrupted run keeps its last step's parameters, to resume from
            device.run(ElementwiseOps.copy(best, model.parameters()));
            bestEpoch = bestEpochOf(p.history);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        return new History(p.history, p.step, p.samples - startSamples, seconds, stoppedEarly, bestEpoch, interrupted);
    }

    /**
     * One training step, the same for {@link #fit} and {@link #runSteps}: the batch of rows
     * {@code [from, from+n)} of the feed's order into the model, forward, loss (its sum into loss
     * slot {@code slot}), backward, the health check (the slot turns NaN when a gradient is
     * non-finite, and the flag follows it) and the optimizer update at rate {@code lr} and global
     * step {@code t} (1-based). Allocates nothing.
     */
    private void step(Batcher feed, int from, int n, int slot, double lr, long t) {
        if (dp.step(feed, from, n, t, calls, slot, slots[slot])) { // this rank's shard (all rows in one process)
            stopRequested = true; // never "|=": that would write back a value read before a signal's request
        }
        device.run(calls.gradientCheck(slot));
        device.run(calls.slotCheck(slot));
        if (clip != null) {
            clip.run(slot);
        }
        optimizer.run(lr, t);
    }

    /** Copies back the first {@code pending} loss slots into {@code slotHost}; returns the first non-finite one, or -1. */
    private int readLosses(int pending) {
        DeviceBuffer prefix = slotPrefix[pending];
        if (prefix == null) {
            prefix = lossSlots.slice(0, pending);
            slotPrefix[pending] = prefix;
        }
        device.download(prefix, slotHost);
        dp.reduceLosses(slotHost, pending, lossScratch);
        if (clip != null) {
            clip.read(pending);
        }
        for (int j = 0; j < pending; j++) {
            if (!Float.isFinite(slotHost[j])) {
                return j;
            }
        }
        return -1;
    }

    /**
     * The feed for {@code train}: resident or host-staged by {@link TrainConfig#residentData()}
     * (counting the validation set, which {@link #evaluate} keeps resident alongside). Made once
     * per dataset and kept: a second {@link #fit} on the same data uploads nothing again.
     */
    private Batcher trainFeed(Dataset train, Dataset validation) {
        if (trainFeed != null && trainFeed.data == train) {
            return trainFeed;
        }
        if (trainFeed != null) {
            trainFeed.close();
            trainFeed = null;
        }
        long validationBytes = validation == null ? 0 : Batcher.residentBytes(model, validation);
        trainFeed = Batcher.chooseResident(config.residentData(), model, train, validationBytes)
                ? Batcher.resident(model, train, DataParallel.maxShard(config.batchSize(), dp.size()))
                : Batcher.staged(model, train);
        return trainFeed;
    }

    /**
     * The mean cross-entropy and next-token accuracy over every position of {@code text}'s
     * validation windows ({@link TextWindows#validationStarts()}), in batches of the model's
     * capacity; copies back only the per-position losses and predictions.
     */
    public Evaluation evaluateText(TextWindows text) {
        Evaluation e = textFeeds.evaluate(text);
        return dp.size() > 1 ? dp.fromRankZero(e) : e;
    }
    /** True when the training data of the last {@link #fit} (or {@link #runSteps}) is resident on the device. */
    public boolean dataResident() {
        return trainFeed instanceof Batcher.Resident;
    }

    /**
     * Runs {@code count} training steps on {@code train} exactly as {@link #fit} runs them (batch,
     * forward, loss, backward, health check, update, loss read-back every {@code lossEvery} steps),
     * at the base learning rate, cycling through the rows in their stored order: no shuffling,
     * validation, listener or checkpoint, and {@link #fit}'s progress is not moved. For benchmarks
     * and allocation tests of the step itself.
     *
     * @throws IllegalStateException when a loss becomes non-finite
     */
    public void runSteps(Dataset train, int count) {
        checkFits(train);
        if (train.rows() == 0) {
            throw new IllegalArgumentException(train.name() + ": the training set is empty");
        }
        Batcher feed = trainFeed(train, null);
        if (benchStep == 0) {
            feed.order(null);
            device.run(calls.clearHealth);
        }
        int batch = config.batchSize();
        int k = config.lossEvery();
        int pending = 0;
        for (int i = 0; i < count; i++) {
            if (benchCursor >= train.rows()) {
                benchCursor = 0;
            }
            int n = Math.min(batch, train.rows() - benchCursor);
            step(feed, benchCursor, n, pending, config.learningRate(), ++benchStep);
            slotRows[pending] = n;
            benchCursor += n;
            pending++;
            if (pending == k || i == count - 1) {
                if (readLosses(pending) >= 0) {
                    throw new IllegalStateException("runSteps: a loss became non-finite near step " + benchStep);
                }
                pending = 0;
            }
        }
    }

    /**
     * Asks a running {@link #fit} to stop after the step it is on: it reads back the losses still
     * on the device, then returns a {@link History} marked {@linkplain History#interrupted()
     * interrupted} with the model holding the parameters of the last completed step, so that
     * {@link #checkpoint} then saves a state from which {@link #resume} continues bitwise as if
     * never stopped. Safe to call from any thread (a signal handler's); later fits stop at once.
     */
    public void requestStop() {
        if (dp.size() > 1) {
            dp.requestStop(); // agreed by every rank at the end of the step's backward, then stopRequested
        } else {
            stopRequested = true;
        }
    }

    /** True once {@link #requestStop()} was called. */
    public boolean stopRequested() {
        return stopRequested;
    }

    /**
     * Key-value facts kept in every checkpoint this trainer writes (the command line keeps its
     * options, its run folder and a fingerprint of the data there); read back as
     * {@link Checkpoint.Snapshot#info()}.
     */
    public void checkpointInfo(Map<String, String> info) {
        checkpointInfo = Map.copyOf(info);
    }

    /** Where training stands: epochs completed and the global step (0 before the first fit). */
    public long step() {
        return progress == null ? 0 : progress.step;
    }

    /** Epochs completed (0 before the first fit). */
    public int epochsDone() {
        return progress == null ? 0 : progress.epoch;
    }

    /** The device id of each completed epoch, restored ones included. */
    public List<String> epochDevices() {
        return progress == null ? List.of() : List.copyOf(progress.devices);
    }

    /** Saves the full training state to {@code file} (atomically), as a {@link Checkpoint.Policy} would. */
    public void checkpoint(java.nio.file.Path file) {
        if (progress == null) {
            throw new IllegalStateException("nothing to checkpoint: fit has not started");
        }
        Checkpoint.save(file, snapshot());
    }

    /** The full training state: progress, host RNG, and the device buffers (copied to the host: an explicit save). */
    Checkpoint.Snapshot snapshot() {
        return TrainerCheckpoint.snapshot(model, config, progress, shuffleRng, checkpointInfo, optimizer.state(), best);
    }

    /** Restores a checkpoint taken by this network and optimizer; the next {@link #fit} continues from it. */
    public void resume(Checkpoint.Snapshot s) {
        TrainerCheckpoint.load(s, model, config, optimizer.state());
        if (s.best() != null) {
            if (best == null) {
                best = own(device.allocFloat(model.layout().size()));
            }
            device.upload(s.best(), best);
        }
        progress = Progress.of(s);
        shuffleRng = Rng.fromState(s.rngState());
    }

    private static int bestEpochOf(List<EpochStats> stats) {
        int b = 0;
        for (int i = 1; i < stats.size(); i++) {
            if (stats.get(i).valLoss() < stats.get(b).valLoss()) {
                b = i;
            }
        }
        return stats.get(b).epoch();
    }

    private void checkFits(Dataset d) {
        if (d.width() != model.spec().inputs()) {
            throw new IllegalArgumentException(d.name() + " has " + d.width() + " features but the network's input layer has "
                    + model.spec().inputs());
        }
        if (d.classes() > model.spec().outputs()) {
            throw new IllegalArgumentException(d.name() + " has " + d.classes() + " classes but the network's output layer has "
                    + model.spec().outputs() + " units");
        }
    }

    /**
     * Mean loss and accuracy over {@code data}, in batches; copies back only per-row losses and
     * predictions. When the training data is resident (or {@link TrainConfig.ResidentData#ON}),
     * {@code data} is kept resident too, uploaded on its first evaluation (the validation set of
     * every epoch goes up once).
     */
    public Evaluation evaluate(Dataset data) {
        if (dp.size() > 1) {
            Dataset mine = dp.shard(data);
            return dp.reduce(mine.rows() == 0 ? new Evaluation(Double.NaN, Double.NaN, 0) : evaluateHere(mine));
        }
        return evaluateHere(data);
    }

    private Evaluation evaluateHere(Dataset data) {
        if (evalFeed == null || evalFeed.data != data) {
            if (evalFeed != null) {
                evalFeed.close();
            }
            boolean resident = config.residentData() == TrainConfig.ResidentData.ON
                    || (config.residentData() == TrainConfig.ResidentData.AUTO && dataResident()
                        && Batcher.chooseResident(TrainConfig.ResidentData.AUTO, model, data,
                            Batcher.residentBytes(model, trainFeed.data)));
            evalFeed = resident && data.rows() > 0 ? Batcher.resident(model, data, model.batchCapacity())
                    : Batcher.staged(model, data);
        }
        return Evaluator.run(model, evalFeed).evaluation();
    }

    @Override
    public void close() {
        textFeeds.close();
        if (trainFeed != null) {
            trainFeed.close();
            trainFeed = null;
        }
        if (evalFeed != null) {
            evalFeed.close();
            evalFeed = null;
        }
        for (DeviceBuffer b : owned) {
            b.close();
        }
        owned.clear();
        if (trace != null) {
            trace.close();
        }
        if (ownsDp) {
            dp.close();
        }
    }
    /** Device bytes of the optimizer state (velocity or Adam's two moments). */
    public long optimizerStateBytes() {
        return 4L * config.optimizer().stateBuffers() * model.layout().size();
    }

    /**
     * The device memory this training holds, by use, e.g. {@code memory: 3.2 MiB on the device =
     * parameters 0.8 MiB, gradients 0.8 MiB, optimizer state 1.6 MiB, activations ...}.
     */
    public String memoryLine() {
        return MemoryReport.line(model, optimizerStateBytes());
    }
}
