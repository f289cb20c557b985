package dev.salvo.device.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads for the CPU provider, sized to the cores; the calling thread
 * takes part, so {@code threads} includes it. Threads are started once and reused for every op
 * (no thread creation on the training path). Work is split into numbered tasks whose ranges never
 * depend on timing, so results are bitwise reproducible whichever thread runs a task. A call made
 * from inside a task, or from a thread other than the pool's caller, runs inline (no nested
 * parallelism).
 *
 * <p>A call allocates nothing: there is one job slot, reused. Workers claim task numbers from one
 * counter that packs the job's generation (high 32 bits) with the next task number (low 32 bits),
 * so a worker still holding a finished job cannot claim a task of the next one: its
 * compare-and-set names the old generation and fails. Before the slot's task and size are
 * rewritten the counter is closed (task number {@link #CLOSED}), so no claim made against the old
 * generation can succeed while they change.
 */
public final class CpuPool implements AutoCloseable {

    /** A task body: task number and the index of the thread running it ({@code 0..threads-1}). */
    @FunctionalInterface
    public interface Task {
        void run(int task, int worker);
    }

    /** A body over the element range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
    }

    private static final long CLOSED = 0xFFFF_FFFFL;

    private final int threads;
    private final Thread[] workers;

    // the job slot: written by the caller while the claim counter is closed, read by workers after
    // they saw the counter open for a generation (volatile: the order of these accesses matters)
    private volatile Task jobTask;
    private volatile int jobTotal;
    private final AtomicLong claims = new AtomicLong(CLOSED);
    private final AtomicInteger done = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private int generation;

    // forRange's adapter: the range body and split of the call in flight (caller-written before run)
    private RangeBody range;
    private int rangeN;
    private int rangeChunks;
    private final Task rangeTask = (task, worker) -> range.run(bound(rangeN, rangeChunks, task),
            bound(rangeN, rangeChunks, task + 1));

    private volatile boolean shutdown;
    private volatile Thread caller;
    private boolean busy;

    public CpuPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.threads = threads;
        this.workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int worker = i + 1;
            Thread t = new Thread(() -> workerLoop(worker), "salvo-cpu-" + worker);
            t.setDaemon(true);
            workers[i] = t;
            t.start();
        }
    }

    public int threads() {
        return threads;
    }

    /** The pool's worker threads (the caller not included); for tests that watch them. */
    public Thread[] workerThreads() {
        return workers.clone();
    }

    /** True when a call from this thread now would be split across the workers. */
    private boolean parallelHere() {
        return workers.length > 0 && !busy && Thread.currentThread() == callerOrSelf();
    }

    /** Runs {@code task(i, worker)} for every {@code i} in {@code [0, tasks)} and waits for all. */
    public void run(int tasks, Task task) {
        if (tasks <= 0) {
            return;
        }
        if (tasks == 1 || !parallelHere()) {
            for (int i = 0; i < tasks; i++) {
                task.run(i, 0);
            }
            return;
        }
        busy = true;
        try {
            // the counter is CLOSED here: set up the slot, then open it for the new generation
            int gen = ++generation;
            jobTask = task;
            jobTotal = tasks;
            done.set(0);
            failure.set(null);
            claims.set((long) gen << 32);
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            claim(0);
            int spins = 0;
            while (done.get() < tasks) {
                if (++spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(20_000);
                }
            }
            claims.set(((long) gen << 32) | CLOSED);
            jobTask = null;
            Throwable t = failure.getAndSet(null);
            if (t instanceof RuntimeException re) {
                throw re;
            }
            if (t instanceof Error e) {
                throw e;
            }
            if (t != null) {
                throw new IllegalStateException(t);
            }
        } finally {
            busy = false;
        }
    }

    /**
     * Splits {@code [0, n)} into at most {@code threads * 4} contiguous chunks of at least
     * {@code grain} and runs {@code range} over each; the split depends only on {@code n},
     * {@code grain} and the thread count. Allocates nothing.
     */
    public void forRange(int n, int grain, RangeBody range) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.max(1, Math.min(threads * 4, n / Math.max(1, grain)));
        if (chunks == 1) {
            range.run(0, n);
            return;
        }
        if (!parallelHere()) {
            for (int i = 0; i < chunks; i++) {
                range.run(bound(n, chunks, i), bound(n, chunks, i + 1));
            }
            return;
        }
        this.range = range;
        this.rangeN = n;
        this.rangeChunks = chunks;
        try {
            run(chunks, rangeTask);
        } finally {
            this.range = null;
        }
    }

    /** Start of chunk {@code i} of {@code chunks} equal chunks of {@code [0, n)}. */
    public static int bound(int n, int chunks, int i) {
        return (int) ((long) n * i / chunks);
    }

    private Thread callerOrSelf() {
        // the first thread to use the pool becomes its caller; other threads run inline
        Thread c = caller;
        if (c == null || !c.isAlive()) {
            caller = Thread.currentThread();
            return caller;
        }
        return c;
    }

    /** Claims and runs tasks of the open generation until none is left; returns when it finds none. */
    private void claim(int worker) {
        while (true) {
            long c = claims.get();
            if ((c & CLOSED) == CLOSED) {
                return;
            }
            int i = (int) (c & CLOSED);
            // read the slot after the counter: a generation's slot is written before it opens
            int total = jobTotal;
            Task task = jobTask;
            if (i >= total || task == null) {
                return;
            }
            if (!claims.compareAndSet(c, c + 1)) {
                continue;
            }
            try {
                task.run(i, worker);
            } catch (Throwable t) {
                failure.compareAndSet(null, t);
            }
            done.incrementAndGet();
        }
    }

    private void workerLoop(int worker) {
        long seen = -1;
        int spins = 0;
        while (!shutdown) {
            long c = claims.get();
            long gen = c >>> 32;
            if ((c & CLOSED) != CLOSED && gen != seen) {
                seen = gen;
                claim(worker);
                spins = 0;
            } else if (++spins < 50_000) {
                Thread.onSpinWait();
            } else {
                LockSupport.parkNanos(1_000_000);
            }
        }
    }

    @Override
    public void close() {
        shutdown = true;
        for (Thread w : workers) {
            LockSupport.unpark(w);
        }
    }
}
