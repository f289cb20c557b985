package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import java.util.Arrays;

/**
 * Puts batches of a dataset into a model's input buffers ({@link Model#input(int)},
 * {@link Model#labels(int)} and, under MSE, one-hot {@link Model#targets(int)}), rows taken in
 * the order last given to {@link #order(int[])}. Used by training and evaluation alike; two ways:
 *
 * <ul>
 *   <li>{@link Staged}: gathers the rows on the host into staging arrays allocated once, then
 *       uploads features and labels (and targets) every batch.
 *   <li>{@link Resident}: uploads the whole dataset once, plus the row order once per epoch
 *       ({@code 4 * rows} bytes), and gathers each batch on the device with
 *       {@link RowsOps#gatherRows}: features and labels by the order, one-hot targets as rows of
 *       a resident identity matrix picked by the gathered labels. A step copies nothing in.
 * </ul>
 *
 * Both put bitwise the same values into the model. Neither allocates per batch once the batch
 * sizes it sees are known: the device gathers are made once per step of an epoch ({@link PerStep}),
 * also for a data-parallel rank's shard, which starts inside its batch. A language model's windows of a token stream come from a third kind,
 * {@link Windows} (no dataset: the order holds window starts).
 */
abstract sealed class Batcher implements AutoCloseable permits Batcher.Staged, Batcher.Resident, Batcher.Windows {

    /**
     * Share of the device's memory a resident dataset may take when {@link TrainConfig.ResidentData#AUTO}
     * decides: a quarter leaves room for the model, optimizer state, activations and the
     * validation set (on the CPU provider the device memory is the JVM heap, which already holds
     * the host copy of the data).
     */
    static final double RESIDENT_SHARE = 0.25;

    final Model model;
    final Device device;
    final Dataset data;
    final int width;
    final int outputs;
    private int[] order;
    private int lastFrom;

    Batcher(Model model, Dataset data) {
        this.model = model;
        this.device = model.device();
        this.data = data;
        this.width = model.spec().inputs();
        this.outputs = model.spec().outputs();
    }

    /** Host-staged batches. */
    static Batcher staged(Model model, Dataset data) {
        return new Staged(model, data);
    }

    /** A resident copy of {@code data}; {@code batch} is the batch size most loads will use. */
    static Batcher resident(Model model, Dataset data, int batch) {
        return new Resident(model, data, batch);
    }

    /** Device bytes a resident copy of {@code data} takes for {@code model}. */
    static long residentBytes(Model model, Dataset data) {
        long rows = data.rows();
        long bytes = 4 * rows * data.width() + 4 * rows + 4 * rows;
        if (model.spec().loss() == Loss.MSE) {
            bytes += 4L * model.spec().outputs() * model.spec().outputs();
        }
        return bytes;
    }

    /** Whether {@code data} is kept on the device under {@code mode}. */
    static boolean chooseResident(TrainConfig.ResidentData mode, Model model, Dataset data, long alsoResident) {
        if (data.rows() == 0) {
            return false;
        }
        return switch (mode) {
            case ON -> true;
            case OFF -> false;
            case AUTO -> {
                long memory = model.device().info().memoryBytes();
                yield memory > 0 && alsoResident + residentBytes(model, data) <= RESIDENT_SHARE * memory;
            }
        };
    }

    /** Row order of the following loads ({@code null}: natural order); kept by reference. */
    void order(int[] order) {
        this.order = order;
    }

    /** Rows {@code order[from .. from+n)} (rows {@code from..} when the order is null) into the model. */
    final void load(int from, int n) {
        lastFrom = from;
        put(from, n);
    }

    abstract void put(int from, int n);

    final int row(int i) {
        return order == null ? i : order[i];
    }

    final int[] currentOrder() {
        return order;
    }

    /** Label of row {@code r} of the batch last loaded (from the host copy). */
    final int label(int r) {
        return data.labels()[row(lastFrom + r)];
    }

    @Override
    public void close() {
    }

    /**
     * The gather calls of each step of an epoch, made on its first load and reused by the epochs
     * after it: step {@code s} loads rows {@code [from, from + n)} with {@code from / batch == s}
     * (a whole batch, or a data-parallel rank's shard of it, the same rows every epoch). A load
     * that differs from the one kept for its step replaces it.
     */
    static final class PerStep<T> {
        private final int batch;
        private final int[] from;
        private final int[] n;
        private final Object[] calls;

        PerStep(int batch, int steps) {
            this.batch = batch;
            this.from = new int[steps];
            this.n = new int[steps];
            this.calls = new Object[steps];
            Arrays.fill(from, -1);
        }

        /** The calls kept for rows {@code [from, from + n)}, or null. */
        @SuppressWarnings("unchecked")
        T get(int from, int n) {
            int s = from / batch;
            return s < calls.length && this.from[s] == from && this.n[s] == n ? (T) calls[s] : null;
        }

        /** Keeps {@code c} for rows {@code [from, from + n)} (beyond the last step: not kept) and returns it. */
        T put(int from, int n, T c) {
            int s = from / batch;
            if (s < calls.length) {
                this.from[s] = from;
                this.n[s] = n;
                calls[s] = c;
            }
            return c;
        }
    }

    /** Gathers rows on the host, uploads them each batch. */
    static final class Staged extends Batcher {
        private final float[] x;
        private final int[] y;
        private final float[] t;

        Staged(Model model, Dataset data) {
            super(model, data);
            int batch = model.batchCapacity();
            x = new float[batch * width];
            y = new int[batch];
            t = model.spec().loss() == Loss.MSE ? new float[batch * outputs] : null;
        }

        @Override
        void put(int from, int n) {
            float[] features = data.features();
            int[] labels = data.labels();
            for (int r = 0; r < n; r++) {
                int src = row(from + r);
                System.arraycopy(features, src * width, x, r * width, width);
                y[r] = labels[src];
            }
            device.upload(x, model.input(n));
            device.upload(y, model.labels(n));
            if (t != null) {
                Arrays.fill(t, 0, n * outputs, 0f);
                for (int r = 0; r < n; r++) {
                    t[r * outputs + y[r]] = 1f;
                }
                device.upload(t, model.targets(n));
            }
        }
    }

    /** The dataset on the device; batches gathered there by an order uploaded once per epoch. */
    static final class Resident extends Batcher {
        private final DeviceBuffer features;
        private final DeviceBuffer labels;
        private final DeviceBuffer orderBuf;
        private final DeviceBuffer eye;
        /** The gathers of each step (features, labels, targets under MSE) with their slices of the order. */
        private final PerStep<OpCall[]> gathers;
        private int[] uploaded;
        private boolean naturalUploaded;

        Resident(Model model, Dataset data, int batch) {
            super(model, data);
            if (batch < 1 || batch > model.batchCapacity()) {
                throw new IllegalArgumentException("batch " + batch + " outside [1, " + model.batchCapacity() + "]");
            }
            int rows = data.rows();
            DeviceBuffer f = null;
            DeviceBuffer l = null;
            DeviceBuffer o = null;
            DeviceBuffer e = null;
            try {
                f = device.allocFloat((long) rows * width);
                l = device.allocInt(rows);
                o = device.allocInt(rows);
                if (model.spec().loss() == Loss.MSE) {
                    e = device.allocFloat((long) outputs * outputs);
                    float[] identity = new float[outputs * outputs];
                    for (int c = 0; c < outputs; c++) {
                        identity[c * outputs + c] = 1f;
                    }
                    device.upload(identity, e);
                }
                if (rows > 0) {
                    device.upload(data.features(), f);
                    device.upload(data.labels(), l);
                }
            } catch (RuntimeException ex) {
                for (DeviceBuffer b : new DeviceBuffer[] {f, l, o, e}) {
                    if (b != null) {
                        b.close();
                    }
                }
                throw ex;
            }
            features = f;
            labels = l;
            orderBuf = o;
            eye = e;
            int steps = (rows + batch - 1) / batch;
            gathers = new PerStep<>(batch, steps);
            for (int s = 0; s < steps; s++) { // whole batches: one process's loads
                int from = s * batch;
                int n = Math.min(batch, rows - from);
                gathers.put(from, n, gathers(orderBuf.slice(from, n), n));
            }
        }

        /**
         * The order goes up ({@code 4 * rows} bytes) with the next batch: a new order array, or the
         * same array again (reshuffled in place for a new epoch). The natural order goes up once.
         */
        @Override
        void order(int[] order) {
            super.order(order);
            uploaded = null;
        }

        private void ensureOrder() {
            int[] o = currentOrder();
            if (o == null) {
                if (!naturalUploaded) {
                    int[] natural = new int[data.rows()];
                    for (int i = 0; i < natural.length; i++) {
                        natural[i] = i;
                    }
                    device.upload(natural, orderBuf);
                    naturalUploaded = true;
                }
            } else if (uploaded != o) {
                device.upload(o, orderBuf);
                uploaded = o;
                naturalUploaded = false;
            }
        }

        @Override
        void put(int from, int n) {
            ensureOrder();
            OpCall[] calls = gathers.get(from, n);
            if (calls == null) {
                calls = gathers.put(from, n, gathers(orderBuf.slice(from, n), n));
            }
            for (OpCall c : calls) {
                device.run(c);
            }
        }

        /** Features and labels of {@code n} rows by {@code index}; one-hot targets by the gathered labels. */
        private OpCall[] gathers(DeviceBuffer index, int n) {
            DeviceBuffer y = model.labels(n);
            OpCall f = RowsOps.gatherRows(n, width, features, index, model.input(n));
            OpCall l = RowsOps.gatherRows(n, 1, labels, index, y);
            return eye == null ? new OpCall[] {f, l} : new OpCall[] {f, l, RowsOps.gatherRows(n, outputs, eye, y, model.targets(n))};
        }

        @Override
        public void close() {
            features.close();
            labels.close();
            orderBuf.close();
            if (eye != null) {
                eye.close();
            }
        }
    }

    /**
     * Windows of a token stream resident on the device ({@link TextWindows}): the order holds
     * window starts, uploaded once per order ({@code 4 * starts} bytes; an epoch's, or the fixed
     * validation windows once); each batch is gathered on the device by
     * {@link RowsOps#gatherWindows} into {@link Model#input(int)} (ids as floats) and
     * {@link Model#labels(int)} (the next tokens). A step copies nothing in.
     */
    static final class Windows extends Batcher {
        private final DeviceBuffer tokens;
        private final boolean ownsTokens;
        private final DeviceBuffer startsAlloc;
        private final DeviceBuffer starts;
        private final int context;
        /** The gather of each step's windows, made on its first load ({@code count / batch} steps kept). */
        private final PerStep<OpCall> gathers;
        private int[] uploaded;

        /**
         * @param tokens     the stream on the device (int); closed with this feed when {@code ownsTokens}
         * @param count      window starts per order (the length of every order given)
         * @param batch      the batch size most loads use
         */
        Windows(Model model, DeviceBuffer tokens, boolean ownsTokens, int count, int batch) {
            super(model, null);
            if (batch < 1 || batch > model.batchCapacity()) {
                throw new IllegalArgumentException("batch " + batch + " outside [1, " + model.batchCapacity() + "]");
            }
            this.tokens = tokens;
            this.ownsTokens = ownsTokens;
            this.context = model.spec().inputs();
            this.startsAlloc = device.allocInt(Math.max(1, count));
            this.starts = startsAlloc.slice(0, count);
            gathers = new PerStep<>(batch, count / batch);
            for (int s = 0; s < count / batch; s++) {
                gathers.put(s * batch, batch, gather(s * batch, batch));
            }
        }

        /** Uploads {@code tokens} (the whole stream) to a new device buffer. */
        static DeviceBuffer upload(Model model, int[] tokens) {
            DeviceBuffer b = model.device().allocInt(tokens.length);
            try {
                model.device().upload(tokens, b);
            } catch (RuntimeException e) {
                b.close();
                throw e;
            }
            return b;
        }

        DeviceBuffer tokens() {
            return tokens;
        }

        @Override
        void order(int[] order) {
            if (order == null || order.length != starts.length()) {
                throw new IllegalArgumentException("window starts: expected " + starts.length() + ", got "
                        + (order == null ? "none" : order.length));
            }
            super.order(order);
            uploaded = null; // the same array again is a new epoch's draws: up it goes with the next batch
        }

        @Override
        void put(int from, int n) {
            int[] o = currentOrder();
            if (uploaded != o) {
                device.upload(o, starts);
                uploaded = o;
            }
            OpCall call = gathers.get(from, n);
            device.run(call != null ? call : gathers.put(from, n, gather(from, n)));
        }

        private OpCall gather(int from, int n) {
            return RowsOps.gatherWindows(n, context, tokens, starts.slice(from, n), model.input(n), model.labels(n));
        }

        @Override
        public void close() {
            startsAlloc.close();
            if (ownsTokens) {
                tokens.close();
            }
        }
    }
}
