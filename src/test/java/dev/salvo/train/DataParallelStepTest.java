package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.device.Activation;
import dev.salvo.device.cpu.CpuDevice;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.dist.Communicator;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * A data-parallel step in one process, against a communicator that plays rank 0 of 2 and
 * "sums" by doubling (as if rank 1 held the same values): the step allocates nothing on the
 * training thread, the CPU pool or the communication thread; and its sums arrive where backward
 * left each bucket, in many small buckets launched while backward runs.
 */
class DataParallelStepTest {

    /** Rank 0 of 2 whose peer always holds the same values: every all-reduce doubles. Counts the floats it reduced. */
    static final class Doubling implements Communicator {
        long floats;
        int calls;

        @Override
        public int rank() {
            return 0;
        }

        @Override
        public int size() {
            return 2;
        }

        @Override
        public int localRank() {
            return 0;
        }

        @Override
        public int localSize() {
            return 2;
        }

        @Override
        public String describe() {
            return "doubling test communicator";
        }

        @Override
        public void allReduceSum(FloatBuffer buf, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                buf.put(i, buf.get(i) * 2);
            }
            floats += length;
            calls++;
        }

        @Override
        public void allReduceSum(double[] values) {
            for (int i = 0; i < values.length; i++) {
                values[i] *= 2;
            }
        }

        @Override
        public void broadcast(FloatBuffer buf, int offset, int length, int root) {
        }

        @Override
        public byte[] broadcast(byte[] data, int root) {
            return data;
        }

        @Override
        public void barrier() {
        }

        @Override
        public void abort(int code) {
            throw new IllegalStateException("abort " + code);
        }

        @Override
        public void close() {
        }
    }

    @Test
    void aDataParallelStepAllocatesNothingAndReducesEveryBucketOncePerStep() {
        NetworkSpec spec = NetworkSpec.input(64).dense(128, Activation.RELU).dense(64, Activation.RELU).dense(10).build();
        int global = 64;
        TrainConfig cfg = TrainConfig.defaults().withOptimizer(Optimizer.adamW(0.01)).withBatchSize(global).withEpochs(1);
        // a longer warm-up than the single-process step's: the data-parallel step runs more code, on two threads, and
        // until C2 has compiled all of it the Vector API's op bodies allocate (the GPU bundle's run under load still
        // allocated 178 KB/step after 600 steps, 36 KB after 800, then nothing)
        int warmup = 1200;
        int steps = warmup + AllocationFreeStepTest.WINDOWS * AllocationFreeStepTest.WINDOW + 5;
        Dataset data = Check.clusters("dp-alloc", steps * global + global / 2, spec.inputs(), spec.outputs(), 3);
        Doubling comm = new Doubling();
        try (CpuDevice d = CpuProvider.open(CpuSettings.load()); Model m = new Model(d, spec, 7, global / 2);
             DataParallel dp = new DataParallel(comm, m, 1000);
             Trainer t = new Trainer(m, cfg, dp)) {
            int buckets = DataParallel.buckets(m.layout(), 1000).length;
            assertTrue(buckets > 10, "many buckets: " + buckets);
            AllocationFreeStepTest.Windows w = new AllocationFreeStepTest.Windows(AllocationMeter.callerAndThreads("salvo-"), -1, warmup);
            assertTrue(w.meter.names().contains("salvo-allreduce"), () -> "the communication thread is measured: " + w.meter.names());
            t.fit(data, null, w);
            System.out.printf("data-parallel step: %s%n", w.describe());
            AllocationFreeStepTest.assertAllocationFree(w);
            long stepsRun = t.step();
            assertEquals((long) buckets * stepsRun, comm.calls, "every bucket once per step");
            assertEquals((long) m.layout().size() * stepsRun + stepsRun, comm.floats, "every gradient float once per step, and the stop flag");
            assertEquals(stepsRun, dp.stats().steps());
        }
    }
}
