package dev.salvo.nn;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Tensor;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.device.ops.TensorOps;
import java.util.ArrayList;
import java.util.List;

/**
 * A network resident on one device, compiled once from its {@link NetworkSpec} graph: parameters,
 * gradients, state and every activation and gradient buffer of a batch of up to
 * {@link #batchCapacity()} rows are allocated here, once, and reused by every step. The model never
 * copies parameters to the host unless asked ({@link #parametersToHost()}).
 *
 * <p>Per step the trainer writes the batch into {@link #input()} and {@link #labels()}, then calls
 * {@link #forward(int)}, {@link #loss(int)} and {@link #backward(int)}; gradients land in
 * {@link #gradients()}, laid out like the parameters ({@link ParamLayout}).
 *
 * <p>The graph runs in topological order. Each layer's output has its own buffer (a view layer's
 * is its input's memory). Gradient buffers are shared where lifetimes allow: a value's gradient
 * lives from the backward pass of its last consumer to the end of its own, so a chain needs two.
 * Where a value feeds several layers their input gradients are added into its gradient. A softmax
 * that ends a cross-entropy network is fused into the loss.
 *
 * <p>A step allocates nothing on the host: the calls of a pass over {@code rows} rows are built
 * once per row count into a {@link Plan} and reused; a few plans are kept (the full batch, the
 * last partial batch of an epoch, an evaluation set's last batch).
 */
public final class Model implements AutoCloseable {

    /** Plans kept: full batch, an epoch's last partial batch, an evaluation set's last batch, one more. */
    private static final int PLANS = 4;

    private final Device device;
    private final NetworkSpec spec;
    private final ParamLayout layout;
    private final ParamLayout stateLayout;
    private final int capacity;
    private final int outputs;
    /** Labelled positions per row ({@link NetworkSpec#positions()}) and classes at each. */
    private final int positions;
    private final int classes;
    private final List<DeviceBuffer> owned = new ArrayList<>();
    private final long[] bytes = new long[ModelMemory.values().length];
    /** Scratch buffers shared between layers ({@link Layer.Binding#scratch}), by key. */
    private final java.util.Map<String, DeviceBuffer> scratch = new java.util.HashMap<>();
    private final DeviceBuffer params;
    private final DeviceBuffer grads;
    private final DeviceBuffer state;
    private final DeviceBuffer input;
    private final DeviceBuffer labels;
    private final DeviceBuffer targets;
    private final DeviceBuffer rowLoss;
    private final DeviceBuffer predicted;
    /** Vertices that run: all but a softmax fused into the loss. */
    private final int active;
    /** The vertex whose output the loss reads. */
    private final int outVertex;
    /** Each vertex's output: its own memory, or its input's under another shape (a view layer). */
    private final Tensor[] value;
    private final DeviceBuffer[] grad;
    /** Where vertex i writes the gradient of input k; {@code accumulate[i][k]}: a scratch buffer added afterwards. */
    private final DeviceBuffer[][] dxTarget;
    private final boolean[][] accumulate;
    /** Vertices with parameters at or below them: the others skip backward. */
    private final boolean[] runsBackward;
    private final Layer.Runtime[] runtimes;
    private final Layer.Mode mode = new Layer.Mode();
    private final long randomSeed;
    private final Plan[] plans = new Plan[PLANS];
    private int nextPlan;
    private final String initialSha256;

    /**
     * Allocates the model on {@code device} and uploads the initial parameters drawn from
     * {@code seed} (the only parameter upload of a training run); {@code seed} also keys dropout.
     */
    public Model(Device device, NetworkSpec spec, long seed, int batchCapacity) {
        this(device, spec, initialParameters(spec, seed), seed, batchCapacity);
    }

    /** Allocates the model and uploads the given parameters (flat, {@link ParamLayout} order). */
    public Model(Device device, NetworkSpec spec, float[] parameters, int batchCapacity) {
        this(device, spec, parameters, 0, batchCapacity);
    }

    private Model(Device device, NetworkSpec spec, float[] parameters, long seed, int batchCapacity) {
        if (batchCapacity < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchCapacity);
        }
        this.device = device;
        this.spec = spec;
        this.layout = ParamLayout.of(spec);
        this.stateLayout = ParamLayout.stateOf(spec);
        this.capacity = batchCapacity;
        this.outputs = spec.outputs();
        this.positions = spec.positions();
        this.classes = spec.classes();
        this.randomSeed = seed;
        if (parameters.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " parameters, got " + parameters.length);
        }
        List<NetworkSpec.Vertex> vs = spec.vertices();
        NetworkSpec.Vertex last = vs.get(vs.size() - 1);
        boolean fused = last.layer().fusesIntoCrossEntropy() && spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY
                && last.inputs()[0] != NetworkSpec.INPUT;
        active = fused ? vs.size() - 1 : vs.size();
        outVertex = fused ? last.inputs()[0] : last.index();
        int n = active;
        value = new Tensor[n];
        grad = new DeviceBuffer[n];
        dxTarget = new DeviceBuffer[n][];
        accumulate = new boolean[n][];
        runtimes = new Layer.Runtime[n];
        try {
            params = own(ModelMemory.PARAMETERS, device.allocFloat(Math.max(1, layout.size()))).slice(0, layout.size());
            grads = own(ModelMemory.GRADIENTS, device.allocFloat(Math.max(1, layout.size()))).slice(0, layout.size());
            if (layout.size() > 0) {
                device.run(ElementwiseOps.fill(grads, 0));
            }
            state = own(ModelMemory.PARAMETERS, device.allocFloat(Math.max(1, stateLayout.size()))).slice(0, stateLayout.size());
            input = own(ModelMemory.BATCH, device.allocFloat((long) capacity * spec.inputs()));
            labels = own(ModelMemory.BATCH, device.allocInt((long) capacity * positions));
            targets = spec.loss() == Loss.MSE ? own(ModelMemory.BATCH, device.allocFloat((long) capacity * outputs)) : null;
            rowLoss = own(ModelMemory.BATCH, device.allocFloat((long) capacity * positions));
            predicted = own(ModelMemory.BATCH, device.allocInt((long) capacity * positions));
            for (int i = 0; i < n; i++) {
                NetworkSpec.Vertex v = vs.get(i);
                int[] dims = batchDims(v.shape());
                value[i] = v.layer().isView() ? valueOf(v.inputs()[0]).reshape(dims)
                        : Tensor.of(own(ModelMemory.ACTIVATIONS, device.allocFloat((long) capacity * v.size())), dims);
            }
            GradientPlan g = GradientPlan.of(spec, active, outVertex, capacity, len -> own(ModelMemory.ACTIVATION_GRADIENTS, device.allocFloat(len)));
            System.arraycopy(g.grad(), 0, grad, 0, n);
            System.arraycopy(g.dxTarget(), 0, dxTarget, 0, n);
            System.arraycopy(g.accumulate(), 0, accumulate, 0, n);
            runsBackward = g.runsBackward();
            for (int i = 0; i < n; i++) {
                runtimes[i] = vs.get(i).layer().bind(new Bound(vs.get(i)));
            }
            this.initialSha256 = layout.sha256(parameters);
            if (layout.size() > 0) {
                device.upload(parameters, params);
            }
            if (stateLayout.size() > 0) {
                device.upload(initialState(stateLayout), state);
            }
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private Tensor valueOf(int vertex) {
        return vertex == NetworkSpec.INPUT ? Tensor.of(input, batchDims(spec.inputShape())) : value[vertex];
    }

    /** {@code (capacity, shape...)}. */
    private int[] batchDims(int[] shape) {
        int[] d = new int[shape.length + 1];
        d[0] = capacity;
        System.arraycopy(shape, 0, d, 1, shape.length);
        return d;
    }

    private int[] shapeOf(int vertex) {
        return vertex == NetworkSpec.INPUT ? spec.inputShape() : spec.vertices().get(vertex).shape();
    }

    private DeviceBuffer own(ModelMemory kind, DeviceBuffer b) {
        owned.add(b);
        bytes[kind.ordinal()] += 4 * b.length();
        return b;
    }

    /** Bytes of device memory this model holds for {@code kind}. */
    public long memoryBytes(ModelMemory kind) {
        return bytes[kind.ordinal()];
    }

    /** What vertex {@code v} is given on this device. */
    private final class Bound implements Layer.Binding {
        private final NetworkSpec.Vertex v;
        private final String prefix;

        Bound(NetworkSpec.Vertex v) {
            this.v = v;
            this.prefix = v.name() + ".";
        }

        @Override
        public Device device() { return device; }

        @Override
        public int capacity() { return capacity; }

        @Override
        public Tensor x(int i) {
            return valueOf(v.inputs()[i]);
        }

        @Override
        public Tensor y() {
            return value[v.index()];
        }

        @Override
        public Tensor dy() {
            return Tensor.of(grad[v.index()], batchDims(v.shape()));
        }

        @Override
        public Tensor dx(int i) {
            DeviceBuffer b = dxTarget[v.index()][i];
            return b == null ? null : Tensor.of(b, batchDims(shapeOf(v.inputs()[i])));
        }

        @Override
        public Tensor param(String name) {
            return sharedParam(prefix + name);
        }

        @Override
        public Tensor grad(String name) {
            return sharedGrad(prefix + name);
        }

        @Override
        public Tensor sharedParam(String fullName) {
            ParamLayout.Tensor t = layout.tensor(fullName);
            return Tensor.of(params.slice(t.offset(), t.length()), t.shape());
        }

        @Override
        public Tensor sharedGrad(String fullName) {
            ParamLayout.Tensor t = layout.tensor(fullName);
            return Tensor.of(grads.slice(t.offset(), t.length()), t.shape());
        }

        @Override
        public boolean gradShared(String name) {
            return spec.vertices().stream().anyMatch(u -> u.index() > v.index() && u.layer().ties().contains(prefix + name));
        }

        @Override
        public Tensor state(String name) {
            ParamLayout.Tensor t = stateLayout.tensor(prefix + name);
            return Tensor.of(state.slice(t.offset(), t.length()), t.shape());
        }

        @Override
        public Tensor floats(int... dims) {
            long length = Tensor.numel(dims);
            return Tensor.of(own(ModelMemory.WORKSPACE, device.allocFloat(Math.max(1, length))), dims);
        }

        @Override
        public Tensor scratch(String key, int... dims) {
            long length = Math.max(1, Tensor.numel(dims));
            DeviceBuffer b = scratch.get(key);
            if (b == null || b.length() < length) {
                b = own(ModelMemory.WORKSPACE, device.allocFloat(length));
                scratch.put(key, b);
            }
            return Tensor.of(b, dims);
        }

        @Override
        public Tensor ints(int... dims) {
            long length = Tensor.numel(dims);
            return Tensor.of(own(ModelMemory.WORKSPACE, device.allocInt(Math.max(1, length))), dims);
        }

        @Override
        public long randomKey() {
            return randomSeed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L * (v.index() + 1);
        }

        @Override
        public Layer.Mode mode() {
            return mode;
        }
    }

    /** The calls of a pass over {@code rows} rows: each vertex's pass and the gradient additions at fan-outs. */
    private final class Plan {
        final int rows;
        final Layer.Pass[] passes;
        final OpCall[][] adds;
        final DeviceBuffer output;
        final DeviceBuffer outputGrad;
        final DeviceBuffer input;
        final DeviceBuffer labels;
        final DeviceBuffer targets;
        final DeviceBuffer rowLoss;
        final DeviceBuffer predicted;
        /** The loss (forward and backward) and the argmax of these rows, built once. */
        final OpCall loss;
        final OpCall argmax;
        /** {@link Model#loss(int, int)}'s op and its row count. */
        OpCall lossOver;
        int lossOverRows;

        Plan(int rows) {
            this.rows = rows;
            passes = new Layer.Pass[active];
            adds = new OpCall[active][];
            for (int i = 0; i < active; i++) {
                passes[i] = runtimes[i].pass(rows);
                NetworkSpec.Vertex v = spec.vertices().get(i);
                adds[i] = new OpCall[v.inputs().length];
                for (int k = 0; k < adds[i].length; k++) {
                    if (accumulate[i][k]) {
                        int u = v.inputs()[k];
                        long len = (long) rows * spec.vertices().get(u).size();
                        DeviceBuffer g = grad[u].slice(0, len);
                        adds[i][k] = TensorOps.ADD.call(new DeviceBuffer[] {g, dxTarget[i][k].slice(0, len), g}, new int[] {(int) len});
                    }
                }
            }
            int c = outputs;
            int labelled = rows * positions;
            output = value[outVertex].rows(rows).data();
            outputGrad = grad[outVertex].slice(0, (long) rows * c);
            input = Model.this.input.slice(0, (long) rows * spec.inputs());
            labels = Model.this.labels.slice(0, labelled);
            targets = Model.this.targets == null ? null : Model.this.targets.slice(0, (long) rows * c);
            rowLoss = Model.this.rowLoss.slice(0, labelled);
            predicted = Model.this.predicted.slice(0, labelled);
            // cross-entropy at every position: (rows * positions) rows of `classes` logits, the mean over all of them
            loss = lossCall(rows);
            argmax = RowsOps.argmax(labelled, classes, output, predicted);
        }

        /** The loss of these rows with the gradient of the mean over {@code meanOver} rows. */
        OpCall lossCall(int meanOver) {
            int labelled = rows * positions;
            return spec.loss() == Loss.SOFTMAX_CROSS_ENTROPY
                    ? RowsOps.softmaxCrossEntropy(labelled, classes, output, labels, 1.0 / ((long) meanOver * positions), rowLoss, outputGrad)
                    : RowsOps.meanSquaredError(rows, outputs, output, targets, 1.0 / meanOver, rowLoss, outputGrad);
        }
    }

    /** Initial parameters for {@code spec} from {@code seed} ({@link ParamLayout#initialParameters}). */
    public static float[] initialParameters(NetworkSpec spec, long seed) {
        return ParamLayout.initialParameters(spec, seed);
    }

    /** The initial state (running means 0, variances 1). */
    public static float[] initialState(ParamLayout stateLayout) {
        return stateLayout.initialValues();
    }

    public Device device() { return device; }

    public NetworkSpec spec() { return spec; }

    public ParamLayout layout() { return layout; }

    /** Where each state tensor (batch-norm running statistics) lives in {@link #state()}. */
    public ParamLayout stateLayout() { return stateLayout; }

    public int batchCapacity() { return capacity; }

    /** Labelled positions per row: {@code T} for a language model's {@code (T, V)} output, else 1. */
    public int positions() { return positions; }

    /** SHA-256 of the parameters this model started from (see {@link ParamLayout#sha256}). */
    public String initialSha256() { return initialSha256; }

    public DeviceBuffer parameters() { return params; }

    public DeviceBuffer gradients() { return grads; }

    /** Non-trainable state, laid out by {@link #stateLayout()}; the optimizer never touches it. */
    public DeviceBuffer state() { return state; }

    /** {@link #train(long, int)} of a whole batch. */
    public void train(long step) { train(step, 0); }

    /**
     * Training mode for the next passes, at global step {@code step} (dropout and random flips draw
     * from it; batch norm uses the batch's statistics and updates its running ones); the batch's rows
     * draw as rows {@code firstRow, firstRow + 1, ...} of the global batch (a data-parallel shard).
     */
    public void train(long step, int firstRow) {
        mode.set(true, step, firstRow);
    }

    /** Eval mode: dropout off, batch norm on its running statistics (the default). */
    public void eval() {
        mode.set(false, mode.step(), 0);
    }

    public boolean isTraining() { return mode.training(); }

    /** Input batch {@code (capacity, inputs)}; a step fills the first {@code rows} rows. */
    public DeviceBuffer input() { return input; }

    /** Class labels {@code (capacity, positions)} (int). */
    public DeviceBuffer labels() { return labels; }

    /** Regression targets {@code (capacity, outputs)} for the MSE loss; null for cross-entropy. */
    public DeviceBuffer targets() { return targets; }

    /** Per-position loss of the last {@link #loss(int)} call {@code (capacity, positions)}. */
    public DeviceBuffer rowLoss() { return rowLoss; }

    /** Network output of the last forward pass {@code (capacity, outputs)}: logits under cross-entropy. */
    public DeviceBuffer output() {
        return value[outVertex].data();
    }

    /** The first {@code rows} rows of {@link #input()} (a view made once per row count). */
    public DeviceBuffer input(int rows) {
        return plan(rows).input;
    }

    /** The labels of the first {@code rows} rows of {@link #labels()}, {@code rows * positions} (a view made once per row count). */
    public DeviceBuffer labels(int rows) {
        return plan(rows).labels;
    }

    /** The first {@code rows} rows of {@link #targets()}; null for cross-entropy. */
    public DeviceBuffer targets(int rows) {
        return plan(rows).targets;
    }

    /** The losses of the first {@code rows} rows, {@code rows * positions} (a view made once per row count). */
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
        if (p.length > 0) {
            device.download(params, p);
        }
        return p;
    }

    /** Replaces the parameters (for example a loaded model). */
    public void loadParameters(float[] p) {
        if (p.length != layout.size()) {
            throw new IllegalArgumentException("expected " + layout.size() + " parameters, got " + p.length);
        }
        if (p.length > 0) {
            device.upload(p, params);
        }
    }

    /** Copies the state (running statistics) to the host. */
    public float[] stateToHost() {
        float[] s = new float[stateLayout.size()];
        if (s.length > 0) {
            device.download(state, s);
        }
        return s;
    }

    /** Replaces the state (a loaded model or a resumed checkpoint). */
    public void loadState(float[] s) {
        if (s.length != stateLayout.size()) {
            throw new IllegalArgumentException("expected " + stateLayout.size() + " state values, got " + s.length);
        }
        if (s.length > 0) {
            device.upload(s, state);
        }
    }

    private void checkRows(int rows) {
        if (rows < 1 || rows > capacity) {
            throw new IllegalArgumentException("rows " + rows + " outside [1, " + capacity + "]");
        }
    }

    /** Forward pass over the first {@code rows} rows of {@link #input()}, in the current mode. */
    public void forward(int rows) {
        Plan p = plan(rows);
        for (int i = 0; i < active; i++) {
            p.passes[i].forward();
        }
    }

    /**
     * Loss of the last forward pass: per-row loss into {@link #rowLoss()} and the gradient of the
     * batch mean loss with respect to the output, ready for {@link #backward(int)}.
     */
    public void loss(int rows) {
        device.run(plan(rows).loss);
    }

    /**
     * As {@link #loss(int)}, with the gradient of the loss summed over these rows divided by
     * {@code meanOver} rows: a data-parallel rank's part of the mean over a global batch.
     */
    public void loss(int rows, int meanOver) {
        Plan p = plan(rows);
        if (p.lossOverRows != meanOver) { // made again only when the global batch changes (an epoch's last)
            p.lossOver = p.lossCall(Math.max(meanOver, rows));
            p.lossOverRows = meanOver;
        }
        device.run(p.lossOver);
    }

    /** Backward pass: fills {@link #gradients()} from the output gradient left by {@link #loss(int)}. */
    public void backward(int rows) {
        backward(rows, i -> { });
    }

    /**
     * As {@link #backward(int)}, calling {@code afterVertex(i)} once vertex i's backward is issued (last
     * first): no later vertex writes the parameter gradients of vertex i or of those after it.
     */
    public void backward(int rows, java.util.function.IntConsumer afterVertex) {
        Plan p = plan(rows);
        for (int i = active - 1; i >= 0; i--) {
            backward(p, i);
            afterVertex.accept(i);
        }
    }

    private void backward(Plan p, int i) {
        if (!runsBackward[i]) {
            return;
        }
        p.passes[i].backward();
        for (OpCall add : p.adds[i]) {
            if (add != null) {
                device.run(add);
            }
        }
    }

    /** Argmax at every position of the output rows into the host array {@code dst (rows * positions)}; downloads that many ints. */
    public void predict(int rows, int[] dst) {
        Plan p = plan(rows);
        device.run(p.argmax);
        device.download(p.predicted, dst);
    }

    /**
     * Finds where the first non-finite value appears for the batch now in {@link #input()}:
     * parameters, each layer's forward output, the loss, then each layer's gradients. Copies
     * buffers to the host: a diagnostic for a failed run, never called on the training path.
     */
    public String locateNonFinite(int rows) {
        return NonFiniteSearch.locate(this, rows);
    }

    /** Vertices that run (all but a softmax fused into the loss), for {@link NonFiniteSearch}. */
    int activeVertices() {
        return active;
    }

    /** Vertex {@code i}'s forward pass over {@code rows} rows. */
    void forwardVertex(int rows, int i) {
        plan(rows).passes[i].forward();
    }

    /** Vertex {@code i}'s backward pass over {@code rows} rows, with its gradient additions. */
    void backwardVertex(int rows, int i) {
        backward(plan(rows), i);
    }

    /** Vertex {@code i}'s output buffer and the gradient buffer of its output. */
    DeviceBuffer buffer(int i, boolean gradient) {
        return gradient ? grad[i] : value[i].data();
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
