package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.cpu.ReferenceProvider;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.device.opencl.OpenClProvider;
import dev.salvo.kernel.TuningTable;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The matmul samples ({@link MatmulOps#MATMUL}: batches, strides, gaps, beta, the epilogue) on the
 * devices no contract subclass covers: the float64 reference device (the plumbing of its declared
 * ops: offsets, strides, gaps) and OpenCL device 0 built with the local-memory tile variant of
 * matmul.kernel ({@code matmul.local=1}, the default for GPUs without a tuning row), which PoCL
 * otherwise never runs (the contract covers {@code local=0} and {@code local=2}); and on OpenCL
 * device 0 a batch longer than the 65535 work-groups the kernel launches along the batch dimension.
 */
class BatchedGemmOtherDevicesTest {

    /** Every sample of the matmul declaration, and each once more with a NaN planted, on {@code d}. */
    static void samples(Device d, long seed) {
        Random r = new Random(seed);
        for (Op.Sample s : MatmulOps.MATMUL.samples(r)) {
            for (Op.Sample v : List.of(s, OpCheck.withNaN(MatmulOps.MATMUL, s, r))) {
                for (OpCheck.Result res : OpCheck.check(d, MatmulOps.MATMUL, v)) {
                    assertTrue(res.pass(), res.describe() + " (seed " + seed + ")");
                }
            }
        }
    }

    @Test
    void referenceDevice() {
        try (Device d = new ReferenceProvider().open(0)) {
            samples(d, BatchedGemmCases.SEED);
            BatchedGemmCases.emptyBatchTouchesNothing(d);
            BatchedGemmCases.accumulatingKeepsNonFinite(d);
        }
    }

    @Test
    void openClLocalMemoryTileVariant() {
        DeviceContract.availableOrSkip("opencl");
        int index = Integer.parseInt(System.getProperty("salvo.test.opencl", "opencl:0").split(":")[1]);
        TuningTable.Tuning tiles = TuningTable.lookup("opencl-tuning.csv", "a GPU with no row of its own")
                .with("matmul.local", 1);
        try (Device d = new OpenClProvider().openTuned(index, tiles)) {
            samples(d, BatchedGemmCases.SEED);
            BatchedGemmCases.emptyBatchTouchesNothing(d);
            BatchedGemmCases.accumulatingKeepsNonFinite(d);
            BatchedGemmCases.reproducible(d);
        }
    }

    /** More entries than the launch's third dimension takes (65535 groups): the groups loop over the rest. */
    @Test
    void openClBatchBeyondTheGridLimit() {
        DeviceContract.availableOrSkip("opencl");
        try (Device d = Devices.open(System.getProperty("salvo.test.opencl", "opencl:0")).device()) {
            Gemm g = Gemm.of(2, 3, 5).transposeA().batched(70_001, 11, 0, 7).accumulate();
            Op.Sample s = MatmulOps.sample(g, true, Activation.RELU, true, new Random(BatchedGemmCases.SEED));
            for (OpCheck.Result res : OpCheck.check(d, MatmulOps.MATMUL, s)) {
                assertTrue(res.pass(), res.describe() + " (seed " + BatchedGemmCases.SEED + ")");
            }
        }
    }
}
