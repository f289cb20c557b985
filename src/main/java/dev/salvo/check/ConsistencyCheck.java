package dev.salvo.check;

import dev.salvo.data.Dataset;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCheck;
import dev.salvo.device.ops.Ops;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.device.Tolerance;
import dev.salvo.device.cpu.ReferenceDevice;
import dev.salvo.device.ReferenceOps;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * What {@code salvo check} runs on one device: every op against {@link ReferenceOps} on fresh
 * random inputs (outputs poisoned with NaN first) within {@link Tolerance}'s bounds, and short
 * training runs against the float64 {@link ReferenceDevice} (same initial SHA-256, per-step loss
 * within 1e-3 relative over 20 steps, final accuracy within 0.5 points).
 */
public final class ConsistencyCheck {

    /**
     * One line of the report.
     *
     * @param error  the worst error found (absolute for ops; relative for training losses; points for accuracy)
     * @param bound  the bound at that worst element
     */
    public record Result(String device, String check, String shape, double error, double bound, boolean pass,
                         double millis, String detail) {
    }

    /** The network of the training checks. */
    public static final NetworkSpec NET = NetworkSpec.input(20).dense(32, Activation.TANH).dense(16, Activation.RELU).dense(5).build();

    private final Device dev;
    private final Rng rng;
    private final List<Result> results = new ArrayList<>();

    public ConsistencyCheck(Device dev, long seed) {
        this.dev = dev;
        this.rng = new Rng(seed);
    }

    /** Runs the op checks only (no training runs) and returns their results in order. */
    public List<Result> runOps() {
        ops();
        return List.copyOf(results);
    }

    /** Runs every check (ops, then training) and returns the results in order. */
    public List<Result> run() {
        ops();
        training();
        return List.copyOf(results);
    }

    private void record(String check, String shape, Supplier<Tolerance.Worst> body) {
        long t0 = System.nanoTime();
        Tolerance.Worst w;
        String detail;
        try {
            w = body.get();
            detail = w.pass() ? "" : w.describe();
        } catch (RuntimeException e) {
            w = new Tolerance.Worst(-1, Double.NaN, 0, Double.NaN, 0);
            detail = e.toString();
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        results.add(new Result(dev.info().id(), check, shape, w.error(), w.bound(), w.pass(), ms, detail));
    }

    private DeviceBuffer put(double[] x) {
        DeviceBuffer b = dev.allocFloat(Math.max(1, x.length));
        dev.upload(x, b.slice(0, x.length));
        return b;
    }

    private DeviceBuffer poisoned(int n) {
        DeviceBuffer b = dev.allocFloat(Math.max(1, n));
        float[] nan = new float[Math.max(1, n)];
        java.util.Arrays.fill(nan, Float.NaN);
        dev.upload(nan, b);
        return b;
    }

    private float[] get(DeviceBuffer b, int n) {
        float[] f = new float[n];
        dev.download(b.slice(0, n), f);
        return f;
    }

    private double[] random(int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * (2 * rng.nextDouble() - 1));
        }
        return x;
    }

    /** Random values with NaN, +inf and -inf planted throughout, the last element NaN (a partial vector). */
    private double[] withNonFinite(int n, double scale) {
        return plantNonFinite(random(n, scale));
    }

    /**
     * Plants NaN, +inf and -inf throughout {@code x} (every 7th, 11th and 13th element from fixed
     * offsets, so vector bodies and tails alike get some) and makes the last element NaN (a partial
     * vector); returns {@code x}. The non-finite inputs of {@code salvo check} and the device contract.
     */
    public static double[] plantNonFinite(double[] x) {
        int n = x.length;
        for (int i = 0; i < n; i++) {
            if (i % 7 == 3) {
                x[i] = Double.NaN;
            } else if (i % 11 == 5) {
                x[i] = Double.POSITIVE_INFINITY;
            } else if (i % 13 == 6) {
                x[i] = Double.NEGATIVE_INFINITY;
            }
        }
        if (n > 0) {
            x[n - 1] = Double.NaN;
        }
        return x;
    }

    private void ops() {
        for (int c : new int[] {10, 23}) {
            record("softmax cross-entropy, NaN/inf", "37x" + c, () -> {
                int r = 37;
                double[] x = withNonFinite(r * c, 5);
                int[] labels = new int[r];
                for (int i = 0; i < r; i++) {
                    labels[i] = rng.nextInt(c);
                }
                try (DeviceBuffer xb = put(x); DeviceBuffer lb = dev.allocInt(r); DeviceBuffer loss = poisoned(r);
                     DeviceBuffer dx = poisoned(r * c); DeviceBuffer am = dev.allocInt(r)) {
                    dev.upload(labels, lb);
                    dev.run(RowsOps.softmaxCrossEntropy(r, c, xb, lb, 1.0 / r, loss, dx));
                    dev.run(RowsOps.argmax(r, c, xb, am));
                    int[] got = new int[r];
                    dev.download(am, got);
                    int[] want = ReferenceOps.argmax(r, c, x);
                    for (int i = 0; i < r; i++) {
                        if (got[i] != want[i]) {
                            return new Tolerance.Worst(i, got[i], want[i], Double.NaN, 0); // argmax: NaN is the largest
                        }
                    }
                    ReferenceOps.LossResult ref = ReferenceOps.softmaxCrossEntropy(r, c, x, labels, 1.0 / r);
                    Tolerance.Worst w = Tolerance.elementwiseNonFinite(ref.rowLoss(), get(loss, r), r);
                    return !w.pass() ? w : Tolerance.elementwiseNonFinite(ref.grad(), get(dx, r * c), r * c);
                }
            });
        }
        declaredOps();
    }

    /**
     * Every declared op (matmul, convolution, pooling, batch norm, dropout, tensor ops) on each sample its
     * declaration draws, and once more with a NaN planted in an input, against its float64 reference
     * within its declared tolerance ({@link OpCheck}).
     */
    private void declaredOps() {
        java.util.Random r = new java.util.Random(rng.nextLong());
        for (Op op : Ops.ALL) {
            for (Op.Sample s : op.samples(r)) {
                for (Op.Sample v : List.of(s, OpCheck.withNaN(op, s, r))) {
                    record(op.toString(), v.label(), () -> {
                        Tolerance.Worst w = Tolerance.Worst.NONE;
                        for (OpCheck.Result res : OpCheck.check(dev, op, v)) {
                            w = worse(w, res.worst());
                        }
                        return w;
                    });
                }
            }
        }
    }

    private static Tolerance.Worst worse(Tolerance.Worst a, Tolerance.Worst b) {
        if (!b.pass() && a.pass()) {
            return b;
        }
        return a.pass() == b.pass() && b.ratio() > a.ratio() ? b : a;
    }

    // ---- training -------------------------------------------------------------------------

    private void training() {
        try (Device ref = new ReferenceDevice()) {
            record("train: initial parameters SHA-256", NET.describe(), () -> {
                try (Model a = new Model(dev, NET, 9, 8); Model b = new Model(ref, NET, 9, 8)) {
                    boolean same = a.initialSha256().equals(b.initialSha256());
                    return new Tolerance.Worst(0, 0, 0, same ? 0 : 1, 0);
                }
            });
            record("train: per-step loss, 20 steps", "batch 8, nesterov", () -> {
                List<Double> got = losses(dev, 20);
                List<Double> want = losses(ref, 20);
                Tolerance.Worst w = Tolerance.Worst.NONE;
                for (int s = 0; s < 20; s++) {
                    double rel = Math.abs(got.get(s) - want.get(s)) / Math.abs(want.get(s));
                    w = worse(w, new Tolerance.Worst(s, got.get(s), want.get(s), Double.isNaN(rel) ? Double.NaN : rel, 1e-3));
                }
                return w;
            });
            record("train: final accuracy (points)", "3 epochs adam", () -> {
                Dataset all = Synthetic.clusters("acc", 1200, 20, 5, 21);
                Dataset.Split split = all.stratifiedSplit(0.25, 1, "train", "test");
                double a = 100 * accuracy(dev, split);
                double b = 100 * accuracy(ref, split);
                return new Tolerance.Worst(0, a, b, Math.abs(a - b), 0.5);
            });
        }
    }

    /** Per-step losses of {@code steps} steps of a fixed Nesterov run of {@link #NET} (seed 9, batch 8). */
    public static List<Double> losses(Device d, int steps) {
        Dataset data = Synthetic.clusters("steps", steps * 8, 20, 5, 11);
        TrainConfig cfg = TrainConfig.defaults().withEpochs(1).withBatchSize(8).withSeed(9)
                .withOptimizer(new Optimizer.Sgd(0.9, true, 1e-4)).withLearningRate(0.05).withSchedule(new Schedule.Cosine(0.1, 5));
        List<Double> losses = new ArrayList<>();
        try (Model model = new Model(d, NET, 9, 8); Trainer trainer = new Trainer(model, cfg)) {
            trainer.fit(data, null, new TrainListener() {
                @Override
                public void onLoss(long step, double loss) {
                    losses.add(loss);
                }
            });
        }
        return losses;
    }

    /** Test accuracy of {@link #NET} after 3 epochs of Adam (seed 4, batch 30). */
    public static double accuracy(Device d, Dataset.Split split) {
        TrainConfig cfg = TrainConfig.defaults().withEpochs(3).withBatchSize(30).withSeed(4).withLearningRate(3e-3);
        try (Model model = new Model(d, NET, 4, 30); Trainer trainer = new Trainer(model, cfg)) {
            trainer.fit(split.first(), null, TrainListener.NONE);
            return trainer.evaluate(split.second()).accuracy();
        }
    }
}
