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

    private final Device device;
    private final NetworkSpec spec;
    private final ParamLayout layout;
    private final int capacity;
    private final List<Stage> stages = new ArrayList<>();
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
        if (parameters.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " parameters, got " + parameters.length);
        }
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
                stages.add(s);
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
        return stages.get(stages.size() - 1).y;
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
        checkRows(rows);
        for (Stage s : stages) {
            forward(s, rows);
        }
    }

    private void forward(Stage s, int rows) {
        DeviceBuffer x = s.x.slice(0, (long) rows * s.in);
        if (s.spec instanceof LayerSpec.Softmax) {
            device.softmaxForward(rows, s.out, x, s.y);
        } else {
            device.matmul(new Gemm(rows, s.out, s.in, false, true), x, s.w, s.b, s.act,
                    s.z, s.act == Activation.IDENTITY ? null : s.y);
        }
    }

    /**
     * Loss of the last forward pass: per-row loss into {@link #rowLoss()} and the gradient of the
     * batch mean loss with respect to the output, ready for {@link #backward(int)}.
     */
    public void loss(int rows) {
        checkRows(rows);
        int c = spec.outputs();
        DeviceBuffer out = output().slice(0, (long) rows * c);
        DeviceBuffer d = gradA.slice(0, (long) rows * c);
        if (spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY) {
            device.softmaxCrossEntropy(rows, c, out, labels, 1.0 / rows, rowLoss, d);
        } else {
            device.meanSquaredError(rows, c, out, targets, 1.0 / rows, rowLoss, d);
        }
    }

    /** Backward pass: fills {@link #gradients()} from the output gradient left by {@link #loss(int)}. */
    public void backward(int rows) {
        checkRows(rows);
        DeviceBuffer d = gradA;
        DeviceBuffer other = gradB;
        for (int i = stages.size() - 1; i >= 0; i--) {
            Stage s = stages.get(i);
            if (backward(s, rows, d, i > 0 ? other : null)) {
                DeviceBuffer t = d;
                d = other;
                other = t;
            }
        }
    }

    /** Backward through one stage; returns true when it wrote the input gradient into {@code dIn}. */
    private boolean backward(Stage s, int rows, DeviceBuffer dOutBuf, DeviceBuffer dInBuf) {
        DeviceBuffer dOut = dOutBuf.slice(0, (long) rows * s.out);
        DeviceBuffer x = s.x.slice(0, (long) rows * s.in);
        if (s.spec instanceof LayerSpec.Softmax) {
            if (dInBuf == null) {
                return false;
            }
            device.softmaxBackward(rows, s.out, s.y.slice(0, (long) rows * s.out), dOut,
                    dInBuf.slice(0, (long) rows * s.in));
            return true;
        }
        if (s.act != Activation.IDENTITY) {
            device.activationBackward(s.act, s.z.slice(0, (long) rows * s.out), dOut, dOut);
        }
        device.matmul(new Gemm(s.out, s.in, rows, true, false), dOut, x, null, Activation.IDENTITY, s.gw, null);
        device.columnSums(rows, s.out, dOut, s.gb);
        if (dInBuf == null) {
            return false;
        }
        device.matmul(new Gemm(rows, s.in, s.out, false, false), dOut, s.w, null, Activation.IDENTITY,
                dInBuf.slice(0, (long) rows * s.in), null);
        return true;
    }

    /** Argmax of the output rows into the host array {@code dst (rows)}; downloads rows ints. */
    public void predict(int rows, int[] dst) {
        device.argmax(rows, spec.outputs(), output(), predicted);
        device.download(predicted.slice(0, rows), dst);
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
        for (Stage s : stages) {
            forward(s, rows);
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
        DeviceBuffer d = gradA;
        DeviceBuffer other = gradB;
        for (int i = stages.size() - 1; i >= 0; i--) {
            Stage s = stages.get(i);
            boolean swapped = backward(s, rows, d, i > 0 ? other : null);
            if (s.gw != null && (!finite(s.gw, s.gw.length()) || !finite(s.gb, s.gb.length()))) {
                return s.describe() + " backward (weight/bias gradient)";
            }
            if (swapped) {
                if (!finite(other, (long) rows * s.in)) {
                    return s.describe() + " backward (input gradient)";
                }
                DeviceBuffer t = d;
                d = other;
                other = t;
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
