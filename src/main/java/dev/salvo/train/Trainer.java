package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Trains a {@link Model} with mini-batch gradient descent, keeping everything on the device.
 *
 * <p>Allocated once, in the constructor: optimizer state (velocity or Adam moments), a buffer of
 * {@code lossEvery} loss slots and a one-element health flag. A step copies in its batch (features
 * and labels, plus one-hot targets under MSE) and nothing else; every {@code lossEvery} steps (and
 * at the end of each epoch) the loss slots, {@code 4 * lossEvery} bytes, come back. Parameters never
 * leave the device during {@link #fit}.
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
    private final DeviceBuffer velocity;
    private final DeviceBuffer m1;
    private final DeviceBuffer m2;
    private final DeviceBuffer lossSlots;
    private final DeviceBuffer health;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final Rng shuffleRng;
    private long optimizerSteps;

    public Trainer(Model model, TrainConfig config) {
        if (config.batchSize() > model.batchCapacity()) {
            throw new IllegalArgumentException("batch size " + config.batchSize() + " exceeds the model's capacity "
                    + model.batchCapacity());
        }
        this.model = model;
        this.config = config;
        this.device = model.device();
        int n = model.layout().size();
        int states = config.optimizer().stateBuffers();
        velocity = states == 1 ? zeros(n) : null;
        m1 = states == 2 ? zeros(n) : null;
        m2 = states == 2 ? zeros(n) : null;
        lossSlots = own(device.allocFloat(config.lossEvery()));
        health = own(device.allocFloat(1));
        shuffleRng = new Rng(config.seed() * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
    }

    private DeviceBuffer own(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    private DeviceBuffer zeros(int n) {
        DeviceBuffer b = own(device.allocFloat(n));
        device.fill(b, 0);
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
        int rows = train.rows();
        int f = train.width();
        int c = model.spec().outputs();
        int batch = config.batchSize();
        int steps = stepsPerEpoch(rows);
        long total = (long) steps * config.epochs();
        int k = config.lossEvery();
        float[] xStage = new float[batch * f];
        int[] yStage = new int[batch];
        float[] tStage = model.spec().loss() == Loss.MSE ? new float[batch * c] : null;
        float[] slotHost = new float[k];
        int[] slotRows = new int[k];
        long[] slotStep = new long[k];
        int[] order = new int[rows];
        for (int i = 0; i < rows; i++) {
            order[i] = i;
        }
        DeviceBuffer best = config.patience() > 0 && validation != null ? own(device.allocFloat(model.layout().size())) : null;
        double bestLoss = Double.POSITIVE_INFINITY;
        int bestEpoch = 0;
        int sinceBest = 0;
        boolean stoppedEarly = false;
        List<EpochStats> stats = new ArrayList<>();
        long start = System.nanoTime();
        long step = 0;
        long samples = 0;
        device.fill(health, 0);
        listener.onStart(config.epochs(), steps, rows);
        for (int epoch = 0; epoch < config.epochs(); epoch++) {
            shuffleRng.shuffle(order);
            long epochStart = System.nanoTime();
            double lossSum = 0;
            int lossCount = 0;
            int pending = 0;
            double lr = 0;
            for (int s = 0; s < steps; s++) {
                int from = s * batch;
                int n = Math.min(batch, rows - from);
                stage(train, order, from, n, xStage, yStage, tStage);
                upload(n, f, c, xStage, yStage, tStage);
                model.forward(n);
                model.loss(n);
                DeviceBuffer slot = lossSlots.slice(pending, 1);
                device.sum(model.rowLoss().slice(0, n), slot);
                model.backward(n);
                device.checkFinite(model.gradients(), slot);
                device.checkFinite(slot, health);
                lr = config.schedule().lr(config.learningRate(), step, total, epoch);
                update(lr);
                slotRows[pending] = n;
                slotStep[pending] = step;
                pending++;
                step++;
                samples += n;
                if (pending == k || s == steps - 1) {
                    device.download(lossSlots.slice(0, pending), slotHost);
                    for (int j = 0; j < pending; j++) {
                        double loss = slotHost[j] / slotRows[j];
                        if (!Double.isFinite(loss)) {
                            int badStep = (int) (slotStep[j] - (long) epoch * steps);
                            stage(train, order, badStep * batch, slotRows[j], xStage, yStage, tStage);
                            upload(slotRows[j], f, c, xStage, yStage, tStage);
                            String where = model.locateNonFinite(slotRows[j]);
                            throw new TrainingDivergedException(epoch + 1, slotStep[j] + 1, badStep + 1, where);
                        }
                        lossSum += loss;
                        lossCount++;
                        listener.onLoss(slotStep[j], loss);
                    }
                    pending = 0;
                }
                listener.onStep(epoch, step - 1, n);
            }
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            Evaluation val = validation == null ? null : evaluate(validation);
            EpochStats es = new EpochStats(epoch + 1, lossSum / lossCount, val == null ? Double.NaN : val.loss(),
                    val == null ? Double.NaN : val.accuracy(), lr, seconds, rows / seconds);
            stats.add(es);
            listener.onEpoch(es);
            bestEpoch = epoch + 1;
            if (best != null) {
                if (val.loss() < bestLoss) {
                    bestLoss = val.loss();
                    sinceBest = 0;
                    device.copy(model.parameters(), best);
                } else if (++sinceBest >= config.patience()) {
                    stoppedEarly = epoch + 1 < config.epochs();
                    break;
                }
            }
        }
        if (best != null) {
            device.copy(best, model.parameters());
            bestEpoch = bestEpochOf(stats);
            best.close();
            owned.remove(best);
        }
        return new History(stats, step, samples, (System.nanoTime() - start) / 1e9, stoppedEarly, bestEpoch);
    }

    private static int bestEpochOf(List<EpochStats> stats) {
        int best = 0;
        for (int i = 1; i < stats.size(); i++) {
            if (stats.get(i).valLoss() < stats.get(best).valLoss()) {
                best = i;
            }
        }
        return stats.get(best).epoch();
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

    private static void stage(Dataset d, int[] order, int from, int n, float[] x, int[] y, float[] t) {
        int f = d.width();
        for (int r = 0; r < n; r++) {
            int src = order[from + r];
            System.arraycopy(d.features(), src * f, x, r * f, f);
            y[r] = d.labels()[src];
        }
        if (t != null) {
            int c = t.length / y.length;
            Arrays.fill(t, 0, n * c, 0f);
            for (int r = 0; r < n; r++) {
                t[r * c + y[r]] = 1f;
            }
        }
    }

    private void upload(int n, int f, int c, float[] x, int[] y, float[] t) {
        device.upload(x, model.input().slice(0, (long) n * f));
        device.upload(y, model.labels().slice(0, n));
        if (t != null) {
            device.upload(t, model.targets().slice(0, (long) n * c));
        }
    }

    private void update(double lr) {
        optimizerSteps++;
        if (config.optimizer() instanceof Optimizer.Sgd sgd) {
            device.sgdUpdate(model.parameters(), model.gradients(), velocity, sgd.step(lr), health);
        } else if (config.optimizer() instanceof Optimizer.Adam adam) {
            device.adamUpdate(model.parameters(), model.gradients(), m1, m2, adam.step(lr, optimizerSteps), health);
        }
    }

    /** Mean loss and accuracy over {@code data}, in batches; copies back only per-row losses and predictions. */
    public Evaluation evaluate(Dataset data) {
        checkFits(data);
        int batch = model.batchCapacity();
        int f = data.width();
        int c = model.spec().outputs();
        float[] x = new float[batch * f];
        int[] y = new int[batch];
        float[] t = model.spec().loss() == Loss.MSE ? new float[batch * c] : null;
        float[] loss = new float[batch];
        int[] pred = new int[batch];
        int[] order = new int[data.rows()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        double lossSum = 0;
        long correct = 0;
        for (int from = 0; from < data.rows(); from += batch) {
            int n = Math.min(batch, data.rows() - from);
            stage(data, order, from, n, x, y, t);
            upload(n, f, c, x, y, t);
            model.forward(n);
            model.loss(n);
            device.download(model.rowLoss().slice(0, n), loss);
            model.predict(n, pred);
            for (int r = 0; r < n; r++) {
                lossSum += loss[r];
                if (pred[r] == y[r]) {
                    correct++;
                }
            }
        }
        int rows = data.rows();
        return new Evaluation(rows == 0 ? Double.NaN : lossSum / rows, rows == 0 ? Double.NaN : (double) correct / rows, rows);
    }

    @Override
    public void close() {
        for (DeviceBuffer b : owned) {
            b.close();
        }
        owned.clear();
    }
}
