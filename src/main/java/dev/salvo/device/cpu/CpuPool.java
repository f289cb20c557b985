package dev.salvo.device.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * One fixed pool of worker threads for the CPU provider, sized to the cores; the calling thread
 * takes part, so {@code threads} includes it. Threads are started once and reused for every op
 * (no thread creation on the training path, no allocation per call). Work is split into numbered
 * tasks whose ranges never depend on timing, so results are bitwise reproducible whichever thread
 * runs a task. A call made from inside a task runs inline (no nested parallelism).
 */
public final class CpuPool implements AutoCloseable {

    /** A task body: task number and the index of the thread running it ({@code 0..threads-1}). */
    @FunctionalInterface
    public interface Task {
        void run(int task, int worker);
    }

    /** One call of {@link #run}: workers holding a stale job find its counter exhausted and leave. */
    private static final class Job {
        final Task task;
        final int total;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(Task task, int total) {
            this.task = task;
            this.total = total;
        }
    }

    private final int threads;
    private final Thread[] workers;
    private volatile Job job;
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

    /** Runs {@code task(i, worker)} for every {@code i} in {@code [0, tasks)} and waits for all. */
    public void run(int tasks, Task task) {
        if (tasks <= 0) {
            return;
        }
        if (tasks == 1 || workers.length == 0 || busy || Thread.currentThread() != callerOrSelf()) {
            for (int i = 0; i < tasks; i++) {
                task.run(i, 0);
            }
            return;
        }
        busy = true;
        try {
            Job j = new Job(task, tasks);
            job = j;
            for (Thread w : workers) {
                LockSupport.unpark(w);
            }
            claim(j, 0);
            int spins = 0;
            while (j.done.get() < tasks) {
                if (++spins < 20_000) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.parkNanos(20_000);
                }
            }
            job = null;
            Throwable t = j.failure.get();
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

    /** Splits {@code [0, n)} into at most {@code threads * 4} contiguous chunks of at least {@code grain}. */
    public void forRange(int n, int grain, RangeBody range) {
        if (n <= 0) {
            return;
        }
        int chunks = Math.max(1, Math.min(threads * 4, n / Math.max(1, grain)));
        if (chunks == 1) {
            range.run(0, n);
            return;
        }
        run(chunks, (task, worker) -> range.run(bound(n, chunks, task), bound(n, chunks, task + 1)));
    }

    /** A body over the element range {@code [from, to)}. */
    @FunctionalInterface
    public interface RangeBody {
        void run(int from, int to);
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

    private static void claim(Job j, int worker) {
        int i;
        while ((i = j.next.getAndIncrement()) < j.total) {
            try {
                j.task.run(i, worker);
            } catch (Throwable t) {
                j.failure.compareAndSet(null, t);
            }
            j.done.incrementAndGet();
        }
    }

    private void workerLoop(int worker) {
        Job seen = null;
        int spins = 0;
        while (!shutdown) {
            Job j = job;
            if (j != null && j != seen) {
                seen = j;
                claim(j, worker);
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
