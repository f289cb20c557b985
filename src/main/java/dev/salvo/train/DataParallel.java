package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.dist.Communicator;
import dev.salvo.dist.DistributedException;
import dev.salvo.dist.SingleProcess;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * Data-parallel training over the ranks of a {@link Communicator}, as PyTorch's DDP: every rank
 * holds the whole model; rank 0's parameters are broadcast at the start; each global batch of
 * {@code n} rows is split into disjoint contiguous shards ({@link #shardStart}); each rank's loss
 * gradient is that of the global mean ({@link Model#loss(int, int)}), so the ranks' gradients
 * summed are the global batch's; the sum is taken in buckets while the backward pass goes on;
 * every rank then applies the same optimizer step to the same gradient and stays bitwise equal.
 *
 * <p>Buckets: the flat gradient buffer is cut into pieces of {@code bucketFloats} from its end
 * backwards ({@link #buckets}), since backward finishes the last layers first. Once the backward
 * of every layer owning part of a bucket has been issued, the bucket is copied into a host
 * staging buffer (page-locked on CUDA) and a communication thread all-reduces it while the
 * training thread goes on with the earlier layers; at the end of backward the training thread
 * waits for the rest and copies the sums back. Where the communicator reduces device memory
 * (NCCL on CUDA), buckets are reduced in place on the device after backward instead.
 *
 * <p>A stop request (a signal on one rank) rides along as one extra float of the last bucket,
 * so every rank stops after the same step. Batch-norm running statistics stay per rank
 * (PyTorch's default); rank 0's are the ones saved.
 */
public final class DataParallel implements AutoCloseable {

    /** Default bucket size, MiB of float32 gradients. */
    public static final int DEFAULT_BUCKET_MB = 4;

    private final Communicator comm;
    private final Model model;
    private final Device device;
    private final int rank;
    private final int size;
    private final int[][] buckets;
    private final int[] readyAfter;
    private final DeviceBuffer[] slices;
    private final boolean onDevice;
    /** Host staging: float 0 is the stop flag, gradient float {@code i} is at {@code i + 1}. */
    private final FloatBuffer staging;
    /** The communication thread (null with one rank or on the device path). */
    private final Thread worker;
    /** The thread waiting in {@link #finishBackward} (null when none). */
    private volatile Thread waiter;
    /** Buckets handed over and finished, counted over the whole run (the worker takes them in order). */
    private volatile long posted;
    private volatile long finished;
    private volatile Throwable failure;
    private volatile boolean closing;
    /** Where each handed-over bucket lies in the staging buffer: offset and length, by bucket. */
    private final int[] postOffset;
    private final int[] postLength;
    private final double[] flag = new double[1];
    private final Map<Dataset, Dataset> shards = new IdentityHashMap<>();
    /** {@link #afterVertex(int)} as the callback backward takes, made once (a method reference per step would allocate). */
    private final java.util.function.IntConsumer afterVertex = this::afterVertex;
    private int launched;
    private volatile boolean localStop; // set by a signal handler's thread
    private long steps;
    private long reduceNanos;
    private long exposedNanos;

    /** Training of {@code model} over {@code comm}'s ranks, gradients summed in buckets of {@code bucketFloats}. */
    public DataParallel(Communicator comm, Model model, int bucketFloats) {
        this.comm = comm;
        this.model = model;
        this.device = model.device();
        this.rank = comm.rank();
        this.size = comm.size();
        ParamLayout layout = model.layout();
        buckets = buckets(layout, bucketFloats);
        readyAfter = readyAfter(model.spec(), layout, buckets);
        slices = new DeviceBuffer[buckets.length];
        for (int b = 0; b < buckets.length; b++) {
            slices[b] = model.gradients().slice(buckets[b][0], buckets[b][1]);
        }
        onDevice = comm.reducesOnDevice(device);
        staging = size > 1 && !onDevice ? device.allocHostStaging(layout.size() + 1) : null;
        postOffset = new int[buckets.length];
        postLength = new int[buckets.length];
        if (size > 1 && !onDevice) {
            worker = new Thread(this::work, "salvo-allreduce");
            worker.setDaemon(true);
            worker.start();
        } else {
            worker = null;
        }
    }

    /** One process: {@link SingleProcess}, one bucket, nothing exchanged; the trainer's step is the same code. */
    static DataParallel single(Model model) {
        return new DataParallel(SingleProcess.INSTANCE, model, Integer.MAX_VALUE);
    }

    /**
     * The buckets of a flat gradient of {@code layout}: {@code {offset, length}} pieces of at most
     * {@code bucketFloats} floats, cut from the end of the buffer backwards (launch order).
     */
    public static int[][] buckets(ParamLayout layout, int bucketFloats) {
        return buckets(layout.size(), bucketFloats);
    }

    /** {@link #buckets(ParamLayout, int)} of a flat buffer of {@code total} floats. */
    public static int[][] buckets(int total, int bucketFloats) {
        if (bucketFloats < 1) {
            throw new IllegalArgumentException("bucket size must be at least 1 float, got " + bucketFloats);
        }
        List<int[]> out = new ArrayList<>();
        for (int end = total; end > 0; end -= bucketFloats) {
            int start = Math.max(0, end - bucketFloats);
            out.add(new int[] {start, end - start});
        }
        return out.toArray(new int[0][]);
    }

    /**
     * For each bucket, the vertex after whose backward it is complete: the lowest vertex owning a
     * parameter tensor that overlaps it (a weight tied to a later layer belongs to its earlier
     * owner, whose backward comes later still). Padding between tensors belongs to no vertex.
     */
    static int[] readyAfter(NetworkSpec spec, ParamLayout layout, int[][] buckets) {
        List<NetworkSpec.Vertex> vs = spec.vertices();
        int[] ready = new int[buckets.length];
        for (int b = 0; b < buckets.length; b++) {
            int lo = buckets[b][0];
            int hi = lo + buckets[b][1];
            int owner = Integer.MAX_VALUE;
            for (ParamLayout.Tensor t : layout.tensors()) {
                if (t.offset() < hi && t.offset() + t.length() > lo) {
                    owner = Math.min(owner, ownerOf(vs, t.name()));
                }
            }
            ready[b] = owner == Integer.MAX_VALUE ? vs.size() : owner;
        }
        return ready;
    }

    /** {@link #readyAfter} for tests. */
    public static int[] readyAfterForTest(NetworkSpec spec, ParamLayout layout, int[][] buckets) {
        return readyAfter(spec, layout, buckets);
    }

    private static int ownerOf(List<NetworkSpec.Vertex> vs, String tensor) {
        for (NetworkSpec.Vertex v : vs) {
            String prefix = v.name() + ".";
            if (tensor.startsWith(prefix) && tensor.indexOf('.', prefix.length()) < 0) {
                return v.index();
            }
        }
        return 0; // unknown owner: ready only when the whole backward has run
    }

    public Communicator communicator() {
        return comm;
    }

    public int rank() {
        return rank;
    }

    public int size() {
        return size;
    }

    /** How gradients are summed: host-staged through the communicator, or on the device. */
    public String path() {
        if (size == 1) {
            return "no all-reduce (1 rank)";
        }
        return onDevice ? comm.describe() : "gradients staged through " + (device.info().id().startsWith("cuda") ? "pinned " : "")
                + "host memory to " + comm.describe() + ", " + buckets.length + " bucket" + (buckets.length == 1 ? "" : "s");
    }

    /** First row of this rank's shard of a global batch of {@code n} rows. */
    public int shardStart(int n) {
        return (int) ((long) n * rank / size);
    }

    /** End (exclusive) of this rank's shard of a global batch of {@code n} rows. */
    public int shardEnd(int n) {
        return (int) ((long) n * (rank + 1) / size);
    }

    /** The largest shard of a global batch of {@code batch} rows (the model's batch capacity per rank). */
    public static int maxShard(int batch, int ranks) {
        return (batch + ranks - 1) / ranks;
    }

    /** Rank 0's parameters and state (batch-norm statistics) onto every rank; returns the parameters' SHA-256 after it. */
    public String broadcastParameters() {
        if (size > 1) {
            broadcast(model.parameters());
            if (model.state().length() > 0) {
                broadcast(model.state());
            }
        }
        return parametersSha256();
    }

    /** The SHA-256 of this rank's parameters now (copied to the host). */
    public String parametersSha256() {
        return model.layout().sha256(model.parametersToHost());
    }

    private void broadcast(DeviceBuffer b) {
        int n = Math.toIntExact(b.length());
        FloatBuffer host = staging != null && staging.capacity() >= n ? staging : device.allocHostStaging(n);
        device.download(b, host, 0);
        comm.broadcast(host, 0, n, 0);
        device.upload(host, 0, b);
    }

    /** This rank's shard of {@code data} (made once per dataset): the rows [shardStart, shardEnd) of all of them. */
    Dataset shard(Dataset data) {
        return shards.computeIfAbsent(data, d -> {
            int lo = shardStart(d.rows());
            int hi = shardEnd(d.rows());
            int[] index = new int[hi - lo];
            for (int i = 0; i < index.length; i++) {
                index[i] = lo + i;
            }
            return d.subset(d.name(), index);
        });
    }

    /** The global evaluation from this rank's evaluation of its shard ({@code local.rows()} rows). */
    Evaluation reduce(Evaluation local) {
        int r = local.rows();
        double[] v = {r == 0 ? 0 : local.loss() * r, r == 0 ? 0 : local.accuracy() * r, r};
        comm.allReduceSum(v);
        return new Evaluation(v[2] == 0 ? Double.NaN : v[0] / v[2], v[2] == 0 ? Double.NaN : v[1] / v[2], (int) v[2]);
    }

    /** Rank 0's evaluation on every rank (for evaluations every rank ran in full). */
    Evaluation fromRankZero(Evaluation e) {
        double[] v = rank == 0 ? new double[] {e.loss(), e.accuracy(), e.rows()} : new double[3];
        comm.allReduceSum(v);
        return new Evaluation(v[0], v[1], (int) v[2]);
    }

    /** Sums the host loss slots over the ranks (each holds its shard's summed loss). */
    void reduceLosses(float[] slots, int count, double[] scratch) {
        if (size == 1) {
            return;
        }
        java.util.Arrays.fill(scratch, 0);
        for (int j = 0; j < count; j++) {
            scratch[j] = slots[j];
        }
        comm.allReduceSum(scratch); // every rank reads the same count of slots at the same step
        for (int j = 0; j < count; j++) {
            slots[j] = (float) scratch[j];
        }
    }

    /** Asks every rank to stop after the step in progress (agreed at the end of its backward). */
    void requestStop() {
        localStop = true;
    }

    /**
     * This rank's part of a training step: its shard of the global batch rows {@code [from, from+n)}
     * forward at global step {@code t}, loss (the gradient of the global mean; its sum into loss slot {@code slot}),
     * backward with the gradient buckets all-reduced as they complete. Every rank leaves it with
     * the global gradient. Returns true when some rank asked to stop after this step (the same on every rank).
     */
    boolean step(Batcher feed, int from, int n, long t, StepCalls calls, int slotIndex, DeviceBuffer slot) {
        int lo = shardStart(n);
        int local = shardEnd(n) - lo;
        model.train(t, lo); // dropout and random flips draw the shard's part of the global batch's masks
        beginBackward();
        if (local > 0) {
            feed.load(from + lo, local);
            model.forward(local);
            model.loss(local, n);
            device.run(calls.lossSum(slotIndex, local));
            model.backward(local, afterVertex);
        } else { // a last batch smaller than the world: this rank adds nothing
            device.run(ElementwiseOps.fill(slot, 0));
            zeroGradients();
        }
        return finishBackward();
    }

    /** Starts a step's gradient exchange; call before backward. */
    void beginBackward() {
        launched = 0;
    }

    /** Backward has issued vertex {@code i}: launches the buckets it completed. */
    void afterVertex(int i) {
        if (staging == null) {
            return;
        }
        while (launched < buckets.length && readyAfter[launched] >= i) {
            launch(launched++);
        }
    }

    /** This rank has no rows in this step: its gradient is zero. */
    void zeroGradients() {
        device.run(ElementwiseOps.fill(model.gradients(), 0));
    }

    private void launch(int b) {
        int off = buckets[b][0] + 1;
        int len = buckets[b][1];
        device.download(slices[b], staging, off);
        boolean last = b == buckets.length - 1;
        if (last) {
            staging.put(0, localStop ? 1f : 0f);
            off = 0;
            len++;
        }
        postOffset[b] = off;
        postLength[b] = len;
        posted++; // publishes the offsets above to the worker (a volatile write)
        LockSupport.unpark(worker);
    }

    /**
     * The communication thread: all-reduces the handed-over buckets in order, counting them in
     * {@link #finished}; parks when there is none. Allocates nothing per bucket.
     */
    private void work() {
        long next = 0;
        while (!closing) {
            if (next == posted) {
                LockSupport.park(this);
                continue;
            }
            int b = (int) (next % buckets.length);
            long t0 = System.nanoTime();
            try {
                comm.allReduceSum(staging, postOffset[b], postLength[b]);
            } catch (Throwable t) {
                failure = t;
            }
            synchronized (this) {
                reduceNanos += System.nanoTime() - t0;
            }
            next++;
            finished = next;
            Thread w = waiter;
            if (w != null) {
                LockSupport.unpark(w);
            }
        }
    }

    /**
     * Ends the step's exchange: launches what is left, waits for every bucket, copies the sums back.
     *
     * @return true when some rank asked to stop after this step (the same answer on every rank)
     */
    boolean finishBackward() {
        steps++;
        if (size == 1) {
            return localStop;
        }
        if (onDevice) {
            long t0 = System.nanoTime();
            for (DeviceBuffer s : slices) {
                comm.allReduceSum(device, s);
            }
            flag[0] = localStop ? 1 : 0;
            comm.allReduceSum(flag);
            long dt = System.nanoTime() - t0;
            reduceNanos += dt;
            exposedNanos += dt;
            return flag[0] > 0;
        }
        while (launched < buckets.length) {
            launch(launched++);
        }
        long t0 = System.nanoTime();
        waiter = Thread.currentThread();
        while (finished != posted && failure == null) {
            LockSupport.park(this);
        }
        waiter = null;
        exposedNanos += System.nanoTime() - t0;
        Throwable f = failure;
        if (f != null) {
            throw f instanceof RuntimeException re ? re : new DistributedException(String.valueOf(f), f);
        }
        for (int b = 0; b < buckets.length; b++) {
            device.upload(staging, buckets[b][0] + 1, slices[b]);
        }
        return staging.get(0) > 0;
    }

    /** Figures of the gradient exchange so far. */
    public synchronized Stats stats() {
        int[] floats = new int[buckets.length];
        for (int b = 0; b < buckets.length; b++) {
            floats[b] = buckets[b][1];
        }
        return new Stats(size, steps, floats, reduceNanos / 1e9, exposedNanos / 1e9);
    }

    /**
     * Figures of the gradient exchange.
     *
     * @param ranks            ranks in the job
     * @param steps            training steps exchanged
     * @param bucketFloats     each bucket's floats, in launch order
     * @param allReduceSeconds time inside the gradient all-reduces
     * @param exposedSeconds   time the training thread waited for them after its backward
     */
    public record Stats(int ranks, long steps, int[] bucketFloats, double allReduceSeconds, double exposedSeconds) {

        /** Share of the all-reduce time hidden behind the backward pass (0 when nothing was reduced). */
        public double overlapShare() {
            return allReduceSeconds <= 0 ? 0 : Math.max(0, 1 - exposedSeconds / allReduceSeconds);
        }
    }

    @Override
    public void close() {
        if (worker != null) {
            closing = true;
            LockSupport.unpark(worker);
        }
    }
}
