package dev.salvo.check;

import dev.salvo.data.Dataset;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCheck;
import dev.salvo.device.ops.Ops;
import dev.salvo.device.SgdStep;
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
        for (Activation act : Activation.values()) {
            record(act.cliName() + " forward", "1237", () -> {
                double[] x = random(1237, 6);
                try (DeviceBuffer xb = put(x); DeviceBuffer y = poisoned(x.length)) {
                    dev.activationForward(act, xb, y);
                    return Tolerance.elementwise(ReferenceOps.activation(act, x), get(y, x.length), x.length);
                }
            });
            record(act.cliName() + " backward", "1237", () -> {
                double[] x = random(1237, 6);
                double[] dy = random(1237, 2);
                try (DeviceBuffer xb = put(x); DeviceBuffer dyb = put(dy); DeviceBuffer dz = poisoned(x.length)) {
                    dev.activationBackward(act, xb, dyb, dz);
                    return Tolerance.elementwise(ReferenceOps.activationBackward(act, x, dy), get(dz, x.length), x.length);
                }
            });
        }
        // NaN and infinities must come out as PyTorch gives them (see Activation), never be hidden
        for (Activation act : Activation.values()) {
            record(act.cliName() + " forward+backward, NaN/inf", "1237", () -> {
                double[] x = withNonFinite(1237, 6);
                double[] dy = random(1237, 2);
                for (int i = 0; i < dy.length; i += 5) {
                    dy[i] = i % 3 == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
                }
                try (DeviceBuffer xb = put(x); DeviceBuffer dyb = put(dy); DeviceBuffer y = poisoned(x.length);
                     DeviceBuffer dz = poisoned(x.length)) {
                    dev.activationForward(act, xb, y);
                    dev.activationBackward(act, xb, dyb, dz);
                    Tolerance.Worst w = Tolerance.elementwiseNonFinite(ReferenceOps.activation(act, x), get(y, x.length), x.length);
                    return !w.pass() ? w
                            : Tolerance.elementwiseNonFinite(ReferenceOps.activationBackward(act, x, dy), get(dz, x.length), x.length);
                }
            });
        }
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
                    dev.softmaxCrossEntropy(r, c, xb, lb, 1.0 / r, loss, dx);
                    dev.argmax(r, c, xb, am);
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
        record("softmax forward", "17x23", () -> {
            double[] x = random(17 * 23, 8);
            try (DeviceBuffer xb = put(x); DeviceBuffer y = poisoned(x.length)) {
                dev.softmaxForward(17, 23, xb, y);
                return Tolerance.elementwise(ReferenceOps.softmax(17, 23, x), get(y, x.length), x.length);
            }
        });
        record("softmax backward", "17x23", () -> {
            double[] y = ReferenceOps.softmax(17, 23, random(17 * 23, 4));
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) y[i];
            }
            double[] dy = random(y.length, 1);
            try (DeviceBuffer yb = put(y); DeviceBuffer dyb = put(dy); DeviceBuffer dx = poisoned(y.length)) {
                dev.softmaxBackward(17, 23, yb, dyb, dx);
                return Tolerance.elementwise(ReferenceOps.softmaxBackward(17, 23, y, dy), get(dx, y.length), y.length);
            }
        });
        record("softmax cross-entropy", "31x10", () -> {
            int r = 31;
            int c = 10;
            double[] x = random(r * c, 10);
            int[] labels = new int[r];
            for (int i = 0; i < r; i++) {
                labels[i] = rng.nextInt(c);
            }
            try (DeviceBuffer xb = put(x); DeviceBuffer lb = dev.allocInt(r); DeviceBuffer loss = poisoned(r);
                 DeviceBuffer dx = poisoned(r * c)) {
                dev.upload(labels, lb);
                dev.softmaxCrossEntropy(r, c, xb, lb, 1.0 / r, loss, dx);
                ReferenceOps.LossResult ref = ReferenceOps.softmaxCrossEntropy(r, c, x, labels, 1.0 / r);
                return worse(Tolerance.elementwise(ref.rowLoss(), get(loss, r), r), Tolerance.elementwise(ref.grad(), get(dx, r * c), r * c));
            }
        });
        record("mean squared error", "19x7", () -> {
            double[] p = random(19 * 7, 3);
            double[] t = random(19 * 7, 3);
            try (DeviceBuffer pb = put(p); DeviceBuffer tb = put(t); DeviceBuffer loss = poisoned(19); DeviceBuffer dp = poisoned(p.length)) {
                dev.meanSquaredError(19, 7, pb, tb, 0.5, loss, dp);
                ReferenceOps.LossResult ref = ReferenceOps.meanSquaredError(19, 7, p, t, 0.5);
                return worse(Tolerance.elementwise(ref.rowLoss(), get(loss, 19), 19), Tolerance.elementwise(ref.grad(), get(dp, p.length), p.length));
            }
        });
        for (int[] s : new int[][] {{4097, 3}, {300, 77}}) {
            record("column sums", s[0] + "x" + s[1], () -> columnSums(s[0], s[1]));
        }
        record("sum", "5000", () -> {
            double[] x = random(5000, 1);
            try (DeviceBuffer xb = put(x); DeviceBuffer out = poisoned(1)) {
                dev.sum(xb, out);
                double abs = 0;
                for (double v : x) {
                    abs += Math.abs(v);
                }
                double ref = ReferenceOps.sum(x);
                float got = get(out, 1)[0];
                return new Tolerance.Worst(0, got, ref, Math.abs(got - ref), 2 * Tolerance.gamma(x.length) * abs + Tolerance.U * abs);
            }
        });
        record("argmax", "41x13", () -> {
            double[] x = random(41 * 13, 1);
            try (DeviceBuffer xb = put(x); DeviceBuffer out = dev.allocInt(41)) {
                dev.argmax(41, 13, xb, out);
                int[] got = new int[41];
                dev.download(out, got);
                int[] ref = ReferenceOps.argmax(41, 13, x);
                int wrong = 0;
                for (int i = 0; i < got.length; i++) {
                    wrong += got[i] == ref[i] ? 0 : 1;
                }
                return new Tolerance.Worst(0, wrong, 0, wrong, 0);
            }
        });
        record("gather rows", "25 of 41x13", () -> {
            double[] x = random(41 * 13, 1);
            int[] idx = new int[25];
            for (int i = 0; i < idx.length; i++) {
                idx[i] = rng.nextInt(41);
            }
            try (DeviceBuffer xb = put(x); DeviceBuffer ib = dev.allocInt(25); DeviceBuffer out = poisoned(25 * 13)) {
                dev.upload(idx, ib);
                dev.gatherRows(25, 13, xb, ib, out);
                return Tolerance.elementwise(ReferenceOps.gatherRows(25, 13, x, idx), get(out, 25 * 13), 25 * 13, 0, 0);
            }
        });
        record("sgd", "3001", () -> sgd(new SgdStep(0.1, 0, false, 0)));
        record("sgd momentum", "3001", () -> sgd(new SgdStep(0.05, 0.9, false, 1e-2)));
        record("sgd nesterov", "3001", () -> sgd(new SgdStep(0.05, 0.9, true, 1e-3)));
        record("adam", "2999", () -> adam(new AdamStep(1e-2, 0.9, 0.999, 1e-8, 1e-2, false, 7)));
        record("adamw", "2999", () -> adam(new AdamStep(3e-3, 0.8, 0.99, 1e-6, 0.05, true, 123)));
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

    private Tolerance.Worst columnSums(int r, int c) {
        double[] x = random(r * c, 1);
        try (DeviceBuffer xb = put(x); DeviceBuffer out = poisoned(c)) {
            dev.columnSums(r, c, xb, out);
            double[] ref = ReferenceOps.columnSums(r, c, x);
            float[] got = get(out, c);
            Tolerance.Worst w = Tolerance.Worst.NONE;
            for (int j = 0; j < c; j++) {
                double abs = 0;
                for (int i = 0; i < r; i++) {
                    abs += Math.abs(x[i * c + j]);
                }
                w = worse(w, new Tolerance.Worst(j, got[j], ref[j], Float.isNaN(got[j]) ? Double.NaN : Math.abs(got[j] - ref[j]),
                        2 * Tolerance.gamma(r) * abs));
            }
            return w;
        }
    }

    private Tolerance.Worst sgd(SgdStep s) {
        int n = 3001;
        double[] w = random(n, 1);
        double[] g = random(n, 1);
        double[] v = random(n, 0.1);
        try (DeviceBuffer wb = put(w); DeviceBuffer gb = put(g); DeviceBuffer vb = put(v); DeviceBuffer ok = put(new double[] {0})) {
            dev.sgdUpdate(wb, gb, vb, s, ok);
            ReferenceOps.sgd(w, g, s.momentum() == 0 ? null : v, s);
            Tolerance.Worst r = Tolerance.elementwise(w, get(wb, n), n);
            return s.momentum() == 0 ? r : worse(r, Tolerance.elementwise(v, get(vb, n), n));
        }
    }

    private Tolerance.Worst adam(AdamStep s) {
        int n = 2999;
        double[] w = random(n, 1);
        double[] g = random(n, 1);
        double[] m = random(n, 0.1);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.01 * rng.nextDouble());
        }
        try (DeviceBuffer wb = put(w); DeviceBuffer gb = put(g); DeviceBuffer mb = put(m); DeviceBuffer vb = put(v);
             DeviceBuffer ok = put(new double[] {0})) {
            dev.adamUpdate(wb, gb, mb, vb, s, ok);
            ReferenceOps.adam(w, g, m, v, s);
            return worse(worse(Tolerance.elementwise(w, get(wb, n), n), Tolerance.elementwise(m, get(mb, n), n)),
                    Tolerance.elementwise(v, get(vb, n), n));
        }
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
