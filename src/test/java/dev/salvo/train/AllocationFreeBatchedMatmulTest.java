package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.cpu.CpuDevice;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.MatmulOps;
import org.junit.jupiter.api.Test;

/**
 * Batched matmul on the CPU provider allocates nothing in the steady state, on the caller or on
 * the pool's workers, on both batch paths: small products split across the entries (a packed op(B)
 * per worker) and large ones split inside each product; with accumulation, a bias and ReLU. Counted
 * as in {@link AllocationFreeStepTest}: the best of {@code WINDOWS} windows must stay below
 * {@link AllocationFreeStepTest#BOUND} bytes per iteration (one iteration is both calls).
 */
class AllocationFreeBatchedMatmulTest {

    static final int WARMUP = 200;
    static final int WINDOW = 100;
    static final int WINDOWS = 3;

    @Test
    void steadyStateBatchedMatmulAllocatesNothing() {
        // two threads whatever the machine, so both batch paths go through the pool
        try (CpuDevice d = CpuProvider.open(CpuSettings.load().withThreads(2))) {
            Gemm small = Gemm.of(16, 16, 128).transposeB().batched(9, 16 * 128 + 1, 0, 16 * 16 + 3).accumulate();
            Gemm large = Gemm.of(64, 70, 64).batched(2);
            DeviceBuffer a = d.allocFloat(Math.max(small.aLength(), large.aLength()));
            DeviceBuffer b = d.allocFloat(Math.max(small.bLength(), large.bLength()));
            DeviceBuffer bias = d.allocFloat(70);
            DeviceBuffer z = d.allocFloat(Math.max(small.cLength(), large.cLength()));
            DeviceBuffer y = d.allocFloat(Math.max(small.cLength(), large.cLength()));
            d.run(ElementwiseOps.fill(a, 0.01));
            d.run(ElementwiseOps.fill(b, 0.02));
            d.run(ElementwiseOps.fill(bias, -0.5));
            d.run(ElementwiseOps.fill(z, 0));
            OpCall smallCall = MatmulOps.matmul(small, a, b, bias, Activation.RELU, z, y);
            OpCall largeCall = MatmulOps.matmul(large, a, b, bias, Activation.IDENTITY, z, null);
            AllocationMeter meter = AllocationMeter.callerAndThreads("salvo-cpu-");
            long overhead = meter.readOverhead();
            long[][] edges = new long[WINDOWS + 1][meter.threads()];
            for (int i = 0; i < WARMUP + WINDOWS * WINDOW; i++) {
                int e = i - WARMUP;
                if (e >= 0 && e % WINDOW == 0) {
                    meter.read(edges[e / WINDOW]);
                }
                d.run(smallCall);
                d.run(largeCall);
            }
            d.synchronize();
            meter.read(edges[WINDOWS]);
            double best = Double.POSITIVE_INFINITY;
            StringBuilder seen = new StringBuilder("bytes/iteration per window:");
            for (int w = 0; w < WINDOWS; w++) {
                double per = (AllocationMeter.sum(edges[w + 1]) - AllocationMeter.sum(edges[w]) - overhead) / (double) WINDOW;
                seen.append(String.format(" %.2f", per));
                best = Math.min(best, per);
            }
            System.out.println(seen);
            assertTrue(best < AllocationFreeStepTest.BOUND, seen::toString);
        }
    }
}
