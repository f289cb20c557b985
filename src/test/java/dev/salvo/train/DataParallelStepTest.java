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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A data-parallel step in one process, against a communicator that plays one rank of 2 or 3 and
 * "sums" by multiplying by the world size (as if the other ranks held the same values): the step
 * allocates nothing on the training thread, the CPU pool or the communication thread, with the
 * data resident on the device or staged from the host (with 3 ranks a shard of 64 rows starts
 * off the resident feed's 22-row grid: its gathers are made in the first epoch, then reused); and
 * its sums arrive where backward left each bucket, in many small buckets launched while backward runs.
 */
class DataParallelStepTest {

    /** Rank {@code rank} of {@code size} whose peers always hold the same values: an all-reduce multiplies by the size. Counts the floats. */
    static final class Copies implements Communicator {
        final int rank;
        final int size;
        long floats;
        int calls;

        Copies(int rank, int size) {
            this.rank = rank;
            this.size = size;
        }

        @Override
        public int rank() {
            return rank;
        }

        @Override
        public int size() {
            return size;
        }

        @Override
        public int localRank() {
            return 0;
        }

        @Override
        public int localSize() {
            return size;
        }

        @Override
        public String describe() {
            return "test communicator: all ranks alike";
        }

        @Override
        public void allReduceSum(FloatBuffer buf, int offset, int length) {
            for (int i = offset; i < offset + length; i++) {
                buf.put(i, buf.get(i) * size);
            }
            floats += length;
            calls++;
        }

        @Override
        public void allReduceSum(double[] values) {
            for (int i = 0; i < values.length; i++) {
                values[i] *= size;
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

    @ParameterizedTest
    @CsvSource({"0, 2, ON", "1, 3, ON", "2, 3, OFF"})
    void aDataParallelStepAllocatesNothingAndReducesEveryBucketOncePerStep(int rank, int size, TrainConfig.ResidentData resident) {
        NetworkSpec spec = NetworkSpec.input(64).dense(128, Activation.RELU).dense(64, Activation.RELU).dense(10).build();
        int global = 64;
        TrainConfig cfg = TrainConfig.defaults().withOptimizer(Optimizer.adamW(0.01)).withBatchSize(global).withEpochs(2)
                .withResidentData(resident);
        // a longer warm-up than the single-process step's: the data-parallel step runs more code, on two threads, and
        // until C2 has compiled all of it the Vector API's op bodies allocate (the GPU bundle's run under load still
        // allocated 178 KB/step after 600 steps, 36 KB after 800, then nothing)
        int warmup = 1200;
        // two epochs, measured in the second: the first makes each step's gathers
        int perEpoch = (warmup + AllocationFreeStepTest.WINDOWS * AllocationFreeStepTest.WINDOW + 5) / 2 + 1;
        Dataset data = Check.clusters("dp-alloc", perEpoch * global, spec.inputs(), spec.outputs(), 3);
        Copies comm = new Copies(rank, size);
        try (CpuDevice d = CpuProvider.open(CpuSettings.load()); Model m = new Model(d, spec, 7, global / 2);
             DataParallel dp = new DataParallel(comm, m, 1000);
             Trainer t = new Trainer(m, cfg, dp)) {
            int buckets = DataParallel.buckets(m.layout(), 1000).length;
            assertTrue(buckets > 10, "many buckets: " + buckets);
            AllocationFreeStepTest.Windows w = new AllocationFreeStepTest.Windows(AllocationMeter.callerAndThreads("salvo-"), -1, Math.max(warmup, perEpoch + 5));
            assertTrue(w.meter.names().contains("salvo-allreduce"), () -> "the communication thread is measured: " + w.meter.names());
            t.fit(data, null, w);
            System.out.printf("data-parallel step, rank %d of %d, resident %s: %s%n", rank, size, resident, w.describe());
            AllocationFreeStepTest.assertAllocationFree(w);
            long stepsRun = t.step();
            assertEquals((long) buckets * stepsRun, comm.calls, "every bucket once per step");
            assertEquals((long) m.layout().size() * stepsRun + stepsRun, comm.floats, "every gradient float once per step, and the stop flag");
            assertEquals(stepsRun, dp.stats().steps());
        }
    }
}
