package dev.salvo.nn;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.List;

/**
 * A network resident on one device: parameters, gradients and the activations of a batch of up
 * to {@link #batchCapacity()} rows are allocated once, here, and reused by every step. The model
 * never copies parameters to the host unless asked ({@link #parametersToHost()}).
 *
 * <p>Per step the trainer writes the batch into {@link #input()} and {@link #labels()}, then calls
 * {@link #forward(int)}, {@link #loss(int)} and {@link #backward(int)}; gradients land in
 * {@link #gradients()}, laid out like the parameters ({@link ParamLayout}).
 *
 * <p>A step allocates nothing on the host: the views of a batch of {@code rows} rows (every
 * layer's input, output and gradient slices) and the three matrix-product shapes of each layer are
 * built once per row count into a {@link Plan} and reused. A few plans are kept (the full batch,
 * the last partial batch of an epoch, an evaluation set's last batch), so the steady state of an
 * epoch builds none.
 */
public final class Model implements AutoCloseable {

    /** A layer on the device with its parameter views and activation buffers. */
    private final class Stage {
        final int index;
        final LayerSpec spec;
        final int in;
        final int out;
        final Activation act;
        DeviceBuffer w;
        DeviceBuffer b;
        DeviceBuffer gw;
        DeviceBuffer gb;
        /** Pre-activation (dense) — equals {@link #y} for linear layers. */
        DeviceBuffer z;
        DeviceBuffer y;
        DeviceBuffer x;

        Stage(int index, LayerSpec spec, int in, int out, Activation act) {
            this.index = index;
            this.spec = spec;
            this.in = in;
            this.out = out;
            this.act = act;
        }

        String describe() {
            if (spec instanceof LayerSpec.Softmax) {
                return "layer " + index + " (softmax " + out + ")";
            }
            return "layer " + index + " (dense " + in + "->" + out
                    + (act == Activation.IDENTITY ? "" : ", " + act.cliName()) + ")";
        }
    }

    /**
     * Everything a pass over {@code rows} rows hands the device, built once per row count: per
     * stage the forward product {@code X W^T}, the weight-gradient product {@code dZ^T X}, the
     * input-gradient product {@code dZ W}, and the row slices of its input, pre-activation,
     * output and of the two gradient buffers it reads from and writes to.
     */
    private final class Plan {
        final int rows;
        final Gemm[] forward;
        final Gemm[] weightGrad;
        final Gemm[] inputGrad;
        final DeviceBuffer[] x;
        final DeviceBuffer[] z;
        final DeviceBuffer[] y;
        final DeviceBuffer[] dOut;
        final DeviceBuffer[] dIn;
        final DeviceBuffer output;
        final DeviceBuffer outputGrad;
        final DeviceBuffer input;
        final DeviceBuffer labels;
        final DeviceBuffer targets;
        final DeviceBuffer rowLoss;
        final DeviceBuffer predicted;

        Plan(int rows) {
            this.rows = rows;
            int n = stages.length;
            forward = new Gemm[n];
            weightGrad = new Gemm[n];
            inputGrad = new Gemm[n];
            x = new DeviceBuffer[n];
            z = new DeviceBuffer[n];
            y = new DeviceBuffer[n];
            dOut = new DeviceBuffer[n];
            dIn = new DeviceBuffer[n];
            // backward alternates between gradA and gradB: the last stage reads gradA
            DeviceBuffer d = gradA;
            DeviceBuffer other = gradB;
            for (int i = n - 1; i >= 0; i--) {
                Stage s = stages[i];
                long inLen = (long) rows * s.in;
                long outLen = (long) rows * s.out;
                forward[i] = new Gemm(rows, s.out, s.in, false, true);
                weightGrad[i] = new Gemm(s.out, s.in, rows, true, false);
                inputGrad[i] = new Gemm(rows, s.in, s.out, false, false);
                x[i] = s.x.slice(0, inLen);
                z[i] = s.z.slice(0, outLen);
                y[i] = s.y.slice(0, outLen);
                dOut[i] = d.slice(0, outLen);
                dIn[i] = i > 0 ? other.slice(0, inLen) : null;
                DeviceBuffer t = d;
                d = other;
                other = t;
            }
            int c = spec.outputs();
            output = output().slice(0, (long) rows * c);
            outputGrad = gradA.slice(0, (long) rows * c);
            input = Model.this.input.slice(0, (long) rows * spec.inputs());
            labels = Model.this.labels.slice(0, rows);
            targets = Model.this.targets == null ? null : Model.this.targets.slice(0, (long) rows * c);
            rowLoss = Model.this.rowLoss.slice(0, rows);
            predicted = Model.this.predicted.slice(0, rows);
        }
    }

    /** Plans kept: full batch, an epoch's last partial batch, an evaluation set's last batch, one more. */
    private static final int PLANS = 4;

    private final Device device;
    private final NetworkSpec spec;
    private final ParamLayout layout;
    private final int capacity;
    private final int outputs;
    private final Stage[] stages;
    private final Plan[] plans = new Plan[PLANS];
    private int nextPlan;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final DeviceBuffer params;
    private final DeviceBuffer grads;
    private final DeviceBuffer input;
    private final DeviceBuffer labels;
    private final DeviceBuffer targets;
    private final DeviceBuffer rowLoss;
    private final DeviceBuffer predicted;
    private final DeviceBuffer gradA;
    private final DeviceBuffer gradB;
    private final String initialSha256;

    /**
     * Allocates the model on {@code device} and uploads the initial parameters drawn from
     * {@code seed} (the only parameter upload of a training run).
     */
    public Model(Device device, NetworkSpec spec, long seed, int batchCapacity) {
        this(device, spec, initialParameters(spec, seed), batchCapacity);
    }

    /** Allocates the model and uploads the given parameters (flat, {@link ParamLayout} order). */
    public Model(Device device, NetworkSpec spec, float[] parameters, int batchCapacity) {
        if (batchCapacity < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchCapacity);
        }
        this.device = device;
        this.spec = spec;
        this.layout = ParamLayout.of(spec);
        this.capacity = batchCapacity;
        this.outputs = spec.outputs();
        if (parameters.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " parameters, got " + parameters.length);
        }
        List<Stage> built = new ArrayList<>();
        try {
            params = own(device.allocFloat(layout.size()));
            grads = own(device.allocFloat(layout.size()));
            device.fill(grads, 0);
            int width = spec.inputs();
            int maxWidth = 1;
            int t = 0;
            List<LayerSpec> layers = spec.layers();
            int last = layers.size() - 1;
            for (int i = 0; i < layers.size(); i++) {
                LayerSpec l = layers.get(i);
                if (i == last && l instanceof LayerSpec.Softmax && spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
                    break; // fused into the loss
                }
                Stage s;
                if (l instanceof LayerSpec.Dense d) {
                    s = new Stage(i, l, width, d.units(), d.activation());
                    ParamLayout.Tensor wt = layout.tensors().get(t++);
                    ParamLayout.Tensor bt = layout.tensors().get(t++);
                    s.w = params.slice(wt.offset(), wt.length());
                    s.b = params.slice(bt.offset(), bt.length());
                    s.gw = grads.slice(wt.offset(), wt.length());
                    s.gb = grads.slice(bt.offset(), bt.length());
                    s.z = own(device.allocFloat((long) capacity * s.out));
                    s.y = s.act == Activation.IDENTITY ? s.z : own(device.allocFloat((long) capacity * s.out));
                } else {
                    s = new Stage(i, l, width, width, Activation.IDENTITY);
                    s.y = own(device.allocFloat((long) capacity * s.out));
                    s.z = s.y;
                }
                built.add(s);
                width = s.out;
                maxWidth = Math.max(maxWidth, width);
            }
            input = own(device.allocFloat((long) capacity * spec.inputs()));
            labels = own(device.allocInt(capacity));
            targets = spec.loss() == Loss.MSE ? own(device.allocFloat((long) capacity * spec.outputs())) : null;
            rowLoss = own(device.allocFloat(capacity));
            predicted = own(device.allocInt(capacity));
            gradA = own(device.allocFloat((long) capacity * maxWidth));
            gradB = own(device.allocFloat((long) capacity * maxWidth));
            stages = built.toArray(new Stage[0]);
            DeviceBuffer x = input;
            for (Stage s : stages) {
                s.x = x;
                x = s.y;
            }
            this.initialSha256 = layout.sha256(parameters);
            device.upload(parameters, params);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private DeviceBuffer own(DeviceBuffer b) {
        owned.add(b);
        return b;
    }

    /** Initial parameters for {@code spec} from {@code seed}: He or Xavier weights, zero biases. */
    public static float[] initialParameters(NetworkSpec spec, long seed) {
        ParamLayout layout = ParamLayout.of(spec);
        float[] p = new float[layout.size()];
        Rng rng = new Rng(seed);
        int t = 0;
        for (LayerSpec l : spec.layers()) {
            if (l instanceof LayerSpec.Dense d) {
                ParamLayout.Tensor w = layout.tensors().get(t);
                t += 2; // the bias stays zero
                int fanOut = w.shape()[0];
                int fanIn = w.shape()[1];
                Init init = spec.init().resolve(d.activation());
                double std = Math.sqrt(2.0 / fanIn);
                double limit = Math.sqrt(6.0 / (fanIn + fanOut));
                for (int k = 0; k < w.length(); k++) {
                    double v = init == Init.HE ? std * rng.nextGaussian() : limit * (2 * rng.nextDouble() - 1);
                    p[w.offset() + k] = (float) v;
                }
            }
        }
        return p;
    }

    public Device device() {
        return device;
    }

    public NetworkSpec spec() {
        return spec;
    }

    public ParamLayout layout() {
        return layout;
    }

    public int batchCapacity() {
        return capacity;
    }

    /** SHA-256 of the parameters this model started from (see {@link ParamLayout#sha256}). */
    public String initialSha256() {
        return initialSha256;
    }

    public DeviceBuffer parameters() {
        return params;
    }

    public DeviceBuffer gradients() {
        return grads;
    }

    /** Input batch {@code (capacity, inputs)}; a step fills the first {@code rows} rows. */
    public DeviceBuffer input() {
        return input;
    }

    /** Class labels {@code (capacity)} (int). */
    public DeviceBuffer labels() {
        return labels;
    }

    /** Regression targets {@code (capacity, outputs)} for the MSE loss; null for cross-entropy. */
    public DeviceBuffer targets() {
        return targets;
    }

    /** Per-row loss of the last {@link #loss(int)} call {@code (capacity)}. */
    public DeviceBuffer rowLoss() {
        return rowLoss;
    }

    /** Network output of the last forward pass {@code (capacity, outputs)}: logits under cross-entropy. */
    public DeviceBuffer output() {
        return stages[stages.length - 1].y;
    }

    /** The first {@code rows} rows of {@link #input()} (a view made once per row count). */
    public DeviceBuffer input(int rows) {
        return plan(rows).input;
    }

    /** The first {@code rows} of {@link #labels()} (a view made once per row count). */
    public DeviceBuffer labels(int rows) {
        return plan(rows).labels;
    }

    /** The first {@code rows} rows of {@link #targets()}; null for cross-entropy. */
    public DeviceBuffer targets(int rows) {
        return plan(rows).targets;
    }

    /** The first {@code rows} of {@link #rowLoss()} (a view made once per row count). */
    public DeviceBuffer rowLoss(int rows) {
        return plan(rows).rowLoss;
    }

    /** The plan for {@code rows} rows: found among the kept ones, else built (replacing the oldest). */
    private Plan plan(int rows) {
        for (Plan p : plans) {
            if (p != null && p.rows == rows) {
                return p;
            }
        }
        checkRows(rows);
        Plan p = new Plan(rows);
        plans[nextPlan] = p;
        nextPlan = (nextPlan + 1) % PLANS;
        return p;
    }

    /** Copies the parameters to the host (counted as a device-to-host transfer). */
    public float[] parametersToHost() {
        float[] p = new float[layout.size()];
        device.download(params, p);
        return p;
    }

    /** Replaces the parameters (for example a loaded model). */
    public void loadParameters(float[] p) {
        if (p.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " parameters, got " + p.length);
        }
        device.upload(p, params);
    }

    private void checkRows(int rows) {
        if (rows < 1 || rows > capacity) {
            throw new IllegalArgumentException("rows " + rows + " outside [1, " + capacity + "]");
        }
    }

    /** Forward pass over the first {@code rows} rows of {@link #input()}. */
    public void forward(int rows) {
        Plan p = plan(rows);
        for (int i = 0; i < stages.length; i++) {
            forward(p, i);
        }
    }

    private void forward(Plan p, int i) {
        Stage s = stages[i];
        if (s.spec instanceof LayerSpec.Softmax) {
            device.softmaxForward(p.rows, s.out, p.x[i], p.y[i]);
        } else {
            device.matmul(p.forward[i], p.x[i], s.w, s.b, s.act, p.z[i], s.act == Activation.IDENTITY ? null : p.y[i]);
        }
    }

    /**
     * Loss of the last forward pass: per-row loss into {@link #rowLoss()} and the gradient of the
     * batch mean loss with respect to the output, ready for {@link #backward(int)}.
     */
    public void loss(int rows) {
        Plan p = plan(rows);
        int c = outputs;
        if (spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
            device.softmaxCrossEntropy(rows, c, p.output, labels, 1.0 / rows, rowLoss, p.outputGrad);
        } else {
            device.meanSquaredError(rows, c, p.output, targets, 1.0 / rows, rowLoss, p.outputGrad);
        }
    }

    /** Backward pass: fills {@link #gradients()} from the output gradient left by {@link #loss(int)}. */
    public void backward(int rows) {
        Plan p = plan(rows);
        for (int i = stages.length - 1; i >= 0; i--) {
            backward(p, i);
        }
    }

    /**
     * Backward through stage {@code i}: weight and bias gradients, and the input gradient into
     * {@code p.dIn[i]} (which the stage below reads as its {@code dOut}) unless it is the first.
     */
    private void backward(Plan p, int i) {
        Stage s = stages[i];
        int rows = p.rows;
        DeviceBuffer dOut = p.dOut[i];
        if (s.spec instanceof LayerSpec.Softmax) {
            if (p.dIn[i] != null) {
                device.softmaxBackward(rows, s.out, p.y[i], dOut, p.dIn[i]);
            }
            return;
        }
        if (s.act != Activation.IDENTITY) {
            device.activationBackward(s.act, p.z[i], dOut, dOut);
        }
        device.matmul(p.weightGrad[i], dOut, p.x[i], null, Activation.IDENTITY, s.gw, null);
        device.columnSums(rows, s.out, dOut, s.gb);
        if (p.dIn[i] != null) {
            device.matmul(p.inputGrad[i], dOut, s.w, null, Activation.IDENTITY, p.dIn[i], null);
        }
    }

    /** Argmax of the output rows into the host array {@code dst (rows)}; downloads rows ints. */
    public void predict(int rows, int[] dst) {
        Plan p = plan(rows);
        device.argmax(rows, outputs, output(), predicted);
        device.download(p.predicted, dst);
    }

    /**
     * Finds where the first non-finite value appears for the batch now in {@link #input()}:
     * parameters, each layer's forward output, the loss, then each layer's gradients. Copies
     * buffers to the host: a diagnostic for a failed run, never called on the training path.
     */
    public String locateNonFinite(int rows) {
        float[] p = parametersToHost();
        for (ParamLayout.Tensor t : layout.tensors()) {
            for (int k = 0; k < t.length(); k++) {
                if (!Float.isFinite(p[t.offset() + k])) {
                    return "parameter " + t.name() + " is already non-finite";
                }
            }
        }
        Plan plan = plan(rows);
        for (int i = 0; i < stages.length; i++) {
            Stage s = stages[i];
            forward(plan, i);
            if (!finite(s.z, (long) rows * s.out)) {
                return s.describe() + " forward (pre-activation)";
            }
            if (!finite(s.y, (long) rows * s.out)) {
                return s.describe() + " forward (activation output)";
            }
        }
        loss(rows);
        if (!finite(rowLoss, rows)) {
            return "the loss (" + spec.loss().cliName() + ") of finite outputs";
        }
        for (int i = stages.length - 1; i >= 0; i--) {
            Stage s = stages[i];
            backward(plan, i);
            if (s.gw != null && (!finite(s.gw, s.gw.length()) || !finite(s.gb, s.gb.length()))) {
                return s.describe() + " backward (weight/bias gradient)";
            }
            if (plan.dIn[i] != null && !finite(plan.dIn[i], (long) rows * s.in)) {
                return s.describe() + " backward (input gradient)";
            }
        }
        return "no layer: the values are finite when the step is replayed";
    }

    private boolean finite(DeviceBuffer b, long n) {
        float[] h = new float[(int) n];
        device.download(b.slice(0, n), h);
        for (float v : h) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    /** Frees every buffer of this model (the device stays open). */
    @Override
    public void close() {
        for (DeviceBuffer b : owned) {
            b.close();
        }
        owned.clear();
    }
}
