package dev.salvo.dist;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Run under {@code mpirun} on a JDK 22+ by {@code MpiTrainIT}: every rank all-reduces buckets at
 * changing offsets of one direct staging buffer (as the data-parallel trainer does) and a
 * {@code double[]} (the loss sums) and checks each sum; rank 0 prints, per round, the bytes the
 * ranks' threads allocated per call, summed: {@code round K: buckets B B/call, doubles D B/call (all ranks), sums right}.
 */
public final class MpiAllocationMain {

    private MpiAllocationMain() {
    }

    public static void main(String[] args) {
        Communicator c = Mpi.open(Launch.of(System.getenv()));
        int w = c.size();
        float expect = w * (w + 1) / 2f;
        FloatBuffer staging = ByteBuffer.allocateDirect(4 * 100_000).order(ByteOrder.nativeOrder()).asFloatBuffer();
        double[] losses = new double[3];
        com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long me = Thread.currentThread().getId();
        int calls = 5000;
        boolean right = true;
        for (int round = 0; round < 5; round++) {
            long b0 = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < calls; i++) {
                int off = (i * 7919) % 90_000;
                int len = 1 + i % 1000;
                for (int k = off; k < off + len; k++) {
                    staging.put(k, c.rank() + 1);
                }
                c.allReduceSum(staging, off, len);
                right &= staging.get(off) == expect && staging.get(off + len - 1) == expect;
            }
            long b1 = mx.getThreadAllocatedBytes(me);
            for (int i = 0; i < calls; i++) {
                losses[0] = c.rank() + 1;
                c.allReduceSum(losses);
                right &= losses[0] == expect;
            }
            long b2 = mx.getThreadAllocatedBytes(me);
            double[] all = {(b1 - b0) / (double) calls, (b2 - b1) / (double) calls, right ? 0 : 1}; // summed over the ranks
            c.allReduceSum(all);
            if (c.rank() == 0) {
                System.out.printf("round %d: buckets %.2f B/call, doubles %.2f B/call (all ranks), sums %s%n", round, all[0], all[1],
                        all[2] == 0 ? "right" : "WRONG on " + (int) all[2] + " rank(s)");
            }
        }
        c.close();
    }
}
