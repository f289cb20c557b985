package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.util.Rng;
import dev.salvo.device.ops.MatmulOps;
import org.junit.jupiter.api.Test;

/** The timing decorator forwards every call unchanged and accounts each to its op and kind. */
class BenchTimingDeviceTest {

    @Test
    void forwardsHostStagingAndDeviceMemory() {
        try (Device cpu = Devices.open("cpu").device()) {
            TimingDevice t = new TimingDevice(cpu);
            assertEquals(null, t.deviceMemory(), "the cpu has no raw device memory, so neither has its decorator");
            java.nio.FloatBuffer staging = t.allocHostStaging(8);
            assertTrue(staging.isDirect());
            staging.put(2, 1.5f).put(3, Float.NaN);
            try (DeviceBuffer b = t.allocFloat(2)) {
                t.upload(staging, 2, b);
                t.download(b, staging, 5);
            }
            assertEquals(1.5f, staging.get(5));
            assertTrue(Float.isNaN(staging.get(6)));
            assertEquals(1, t.calls(TimingDevice.Transfer.UPLOAD));
            assertEquals(1, t.calls(TimingDevice.Transfer.DOWNLOAD));
        }
    }

    @Test
    void forwardsAndAccounts() {
        try (Device cpu = Devices.open("cpu").device()) {
            TimingDevice t = new TimingDevice(cpu);
            Rng rng = new Rng(5);
            int m = 37;
            int k = 53;
            int n = 29;
            float[] a = new float[m * k];
            float[] b = new float[k * n];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) rng.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rng.nextGaussian();
            }
            DeviceBuffer da = t.allocFloat(a.length);
            DeviceBuffer db = t.allocFloat(b.length);
            DeviceBuffer viaTiming = t.allocFloat((long) m * n);
            DeviceBuffer direct = cpu.allocFloat((long) m * n);
            assertSame(cpu, da.device(), "buffers are the inner device's own");
            t.upload(a, da);
            t.upload(b, db);
            t.run(ElementwiseOps.fill(viaTiming, Double.NaN));
            cpu.run(ElementwiseOps.fill(direct, Double.NaN));
            t.run(MatmulOps.matmul(Gemm.of(m, n, k), da, db, null, Activation.IDENTITY, viaTiming, null));
            cpu.run(MatmulOps.matmul(Gemm.of(m, n, k), da, db, null, Activation.IDENTITY, direct, null));
            t.run(ElementwiseOps.activationForward(Activation.RELU, viaTiming, viaTiming));
            cpu.run(ElementwiseOps.activationForward(Activation.RELU, direct, direct));
            float[] x = new float[m * n];
            float[] y = new float[m * n];
            t.download(viaTiming, x);
            cpu.download(direct, y);
            assertArrayEquals(y, x, "the decorator computes exactly what the device computes");
            for (float v : x) {
                assertFalse(Float.isNaN(v));
            }

            assertEquals(1, t.account(MatmulOps.MATMUL)[1], "every op is accounted by its declaration");
            assertEquals(1, t.account(ElementwiseOps.ACT_FORWARD)[1]);
            assertEquals(1, t.account(ElementwiseOps.FILL)[1]);
            assertEquals(0, t.account(ElementwiseOps.SCALE)[1]);
            assertEquals(2, t.calls(TimingDevice.Transfer.UPLOAD));
            assertEquals(1, t.calls(TimingDevice.Transfer.DOWNLOAD));
            assertEquals(0, t.account(dev.salvo.device.ops.OptimizerOps.ADAM_UPDATE)[1]);
            assertEquals(java.util.Set.of(MatmulOps.MATMUL, ElementwiseOps.ACT_FORWARD, ElementwiseOps.FILL), t.calledOps());
            assertTrue(t.account(MatmulOps.MATMUL)[0] > 0);
            assertEquals(t.account(MatmulOps.MATMUL)[0] / 1e9, t.seconds(TimingDevice.Kind.MATMUL), 1e-12);
            assertEquals(2.0 * m * n * k, t.matmulFlops());
            assertEquals((t.account(ElementwiseOps.ACT_FORWARD)[0] + t.account(ElementwiseOps.FILL)[0]) / 1e9,
                    t.seconds(TimingDevice.Kind.ELEMENTWISE), 1e-12);
            assertEquals(t.seconds(TimingDevice.Transfer.UPLOAD) + t.seconds(TimingDevice.Transfer.DOWNLOAD),
                    t.seconds(TimingDevice.Kind.TRANSFER), 1e-12);
            t.reset();
            assertEquals(0, t.account(MatmulOps.MATMUL)[1]);
            assertEquals(0, t.account(ElementwiseOps.FILL)[1]);
            assertEquals(0, t.seconds(TimingDevice.Kind.MATMUL));
            assertEquals(0, t.matmulFlops());
            t.close();
            assertFalse(da.isClosed(), "closing the decorator leaves the inner device open");
        }
    }

    @Test
    void matmulFlopsCoverTheBatch() {
        try (Device cpu = Devices.open("cpu").device()) {
            TimingDevice t = new TimingDevice(cpu);
            Gemm one = Gemm.of(3, 4, 5);
            Gemm batched = one.transposeB().batched(6, 15, 0, 12).accumulate();
            try (DeviceBuffer a = t.allocFloat(batched.aLength()); DeviceBuffer b = t.allocFloat(batched.bLength());
                 DeviceBuffer z = t.allocFloat(batched.cLength())) {
                t.run(ElementwiseOps.fill(a, 1));
                t.run(ElementwiseOps.fill(b, 1));
                t.run(ElementwiseOps.fill(z, 0));
                t.run(MatmulOps.matmul(one, a, b, null, Activation.IDENTITY, z, null));
                assertEquals(2.0 * 3 * 4 * 5, t.matmulFlops());
                t.run(MatmulOps.matmul(batched, a, b, null, Activation.IDENTITY, z, null));
                assertEquals(2.0 * 3 * 4 * 5 * 7, t.matmulFlops(), "6 entries more");
                t.reset();
                assertEquals(0.0, t.matmulFlops());
            }
        }
    }
}
