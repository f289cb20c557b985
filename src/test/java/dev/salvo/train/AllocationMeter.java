package dev.salvo.train;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Heap bytes allocated by a fixed set of threads, read with
 * {@link com.sun.management.ThreadMXBean#getThreadAllocatedBytes(long)} (HotSpot counts every
 * TLAB and outside-TLAB allocation of a thread, exact to the byte). {@link #read(long[])} itself
 * allocates nothing on HotSpot; {@link #readOverhead()} measures that, so a test subtracts it
 * rather than assuming it.
 */
final class AllocationMeter {

    private final com.sun.management.ThreadMXBean mx;
    private final long[] ids;
    private final List<String> names = new ArrayList<>();

    /** The calling thread plus every live thread whose name starts with {@code prefix} (the CPU pool's workers). */
    static AllocationMeter callerAndThreads(String prefix) {
        List<Thread> threads = new ArrayList<>();
        threads.add(Thread.currentThread());
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && t.isAlive()) {
                threads.add(t);
            }
        }
        return new AllocationMeter(threads);
    }

    AllocationMeter(List<Thread> threads) {
        mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        if (!mx.isThreadAllocatedMemorySupported()) {
            throw new IllegalStateException("this JVM cannot count allocated bytes per thread");
        }
        mx.setThreadAllocatedMemoryEnabled(true);
        ids = new long[threads.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = threads.get(i).getId();
            names.add(threads.get(i).getName());
        }
    }

    int threads() {
        return ids.length;
    }

    List<String> names() {
        return names;
    }

    /** Per-thread allocated bytes so far into {@code dst} (one slot per thread). */
    void read(long[] dst) {
        for (int i = 0; i < ids.length; i++) {
            dst[i] = mx.getThreadAllocatedBytes(ids[i]);
        }
    }

    /** Bytes one {@link #read} allocates on the calling thread (0 on HotSpot 17+). */
    long readOverhead() {
        long[] a = new long[ids.length];
        long[] b = new long[ids.length];
        long min = Long.MAX_VALUE;
        for (int rep = 0; rep < 5; rep++) {
            read(a);
            read(b);
            min = Math.min(min, b[0] - a[0]);
        }
        return min;
    }

    static long sum(long[] v) {
        long s = 0;
        for (long x : v) {
            s += x;
        }
        return s;
    }
}
