package dev.salvo.device;

import dev.salvo.device.cpu.ReferenceProvider;
import dev.salvo.device.opencl.OpenClProvider;
import dev.salvo.kernel.TuningTable;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The batched matmul cases of the device contract on the devices no contract subclass covers:
 * the float64 reference device (the plumbing around {@code ReferenceOps}: strides, gaps, beta)
 * and OpenCL device 0 built with the local-memory tile variant of matmul.kernel
 * ({@code matmul.local=1}, the default for GPUs without a tuning row), which PoCL otherwise never
 * runs (the contract covers {@code local=0} and {@code local=2}); and on OpenCL device 0 a batch
 * longer than the 65535 work-groups the kernel launches along the batch dimension.
 */
class BatchedGemmOtherDevicesTest {

    static Stream<BatchedGemmCases.Case> cases() {
        return BatchedGemmCases.cases().stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    void referenceDevice(BatchedGemmCases.Case c) {
        try (Device d = new ReferenceProvider().open(0)) {
            BatchedGemmCases.check(d, c);
        }
    }

    @Test
    void referenceDeviceEdgeCases() {
        try (Device d = new ReferenceProvider().open(0)) {
            for (BatchedGemmCases.Case c : BatchedGemmCases.zeroSizeCases()) {
                BatchedGemmCases.check(d, c);
            }
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
            for (BatchedGemmCases.Case c : BatchedGemmCases.cases()) {
                BatchedGemmCases.check(d, c);
            }
            for (BatchedGemmCases.Case c : BatchedGemmCases.zeroSizeCases()) {
                BatchedGemmCases.check(d, c);
            }
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
            BatchedGemmCases.check(d, new BatchedGemmCases.Case(g, true, Activation.RELU));
        }
    }
}
