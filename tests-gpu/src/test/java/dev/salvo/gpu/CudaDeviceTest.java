package dev.salvo.gpu;

import dev.salvo.device.DeviceContract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceMemory;
import dev.salvo.device.HostStagingChecks;
import dev.salvo.device.Devices;
import dev.salvo.device.cuda.CudaDevice;
import dev.salvo.device.ops.ElementwiseOps;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * CUDA-only checks: out-of-memory is typed and recoverable, memory comes back on close, how kernels
 * were built, page-locked staging buffers, the raw pointers NCCL is given.
 */
class CudaDeviceTest {

    static CudaDevice dev;
    static String unavailable;

    @BeforeAll
    static void open() {
        try {
            dev = (CudaDevice) Devices.open("cuda:0").device();
            System.out.println("cuda:0 kernels: " + dev.buildReport());
        } catch (DeviceException.Unavailable e) {
            if (DeviceContract.required("cuda")) {
                throw new AssertionError("SALVO_REQUIRE lists cuda but it is unavailable: " + e.getMessage());
            }
            unavailable = "cuda unavailable: " + e.reason();
        }
    }

    /** Reported as a skip on every test, with the reason, when there is no CUDA device. */
    @BeforeEach
    void needCuda() {
        Assumptions.assumeTrue(unavailable == null, unavailable);
    }

    @AfterAll
    static void close() {
        if (dev != null) {
            dev.close();
        }
    }

    @Test
    void outOfMemoryIsTypedAndASmallerAllocationWorksAfterwards() {
        long[] mem = dev.memoryInfo();
        long tooMany = (mem[0] + (1L << 30)) / 4;
        DeviceException.OutOfMemory e = assertThrows(DeviceException.OutOfMemory.class, () -> dev.allocFloat(Math.min(tooMany, Integer.MAX_VALUE)));
        assertTrue(e.requestedBytes() > 0 && e.freeBytes() > 0, e.getMessage());
        try (DeviceBuffer b = dev.allocFloat(1 << 20)) {
            dev.run(ElementwiseOps.fill(b, 1));
            float[] h = new float[1 << 20];
            dev.download(b, h);
            assertEquals(1f, h[12345]);
        }
    }

    @Test
    void memoryComesBackOnClose() {
        long before = dev.memoryInfo()[0];
        try (Device d = Devices.open("cuda:0").device()) {
            for (int i = 0; i < 64; i++) {
                d.allocFloat(1 << 22); // 16 MiB each, freed by closing the device
            }
        }
        for (int i = 0; i < 10_000; i++) {
            dev.allocFloat(1024).close();
        }
        long after = dev.memoryInfo()[0];
        assertTrue(Math.abs(before - after) < (64L << 20), "free memory before " + before + ", after " + after);
        assertEquals(0, dev.counters().liveBuffers());
    }

    /** The host staging contract on cuda:0 (page-locked buffers), then 64 MiB there and back through one. */
    @Test
    void pinnedStagingRoundTrip() {
        HostStagingChecks.check(dev);
        int n = 1 << 24;
        java.nio.FloatBuffer staging = dev.allocHostStaging(n);
        for (int i = 0; i < n; i++) {
            staging.put(i, i * 0.5f);
        }
        try (DeviceBuffer b = dev.allocFloat(n)) {
            long t0 = System.nanoTime();
            dev.upload(staging, 0, b);
            long t1 = System.nanoTime();
            dev.run(ElementwiseOps.fill(b.slice(0, 1), -1));
            dev.download(b, staging, 0);
            long t2 = System.nanoTime();
            assertEquals(-1f, staging.get(0));
            for (int i = 1; i < n; i++) {
                assertEquals(i * 0.5f, staging.get(i), "element " + i);
            }
            System.out.printf("pinned staging, 64 MiB: upload %.1f GB/s, download (with a fill) %.1f GB/s%n",
                    4.0 * n / (t1 - t0), 4.0 * n / (t2 - t1));
        }
    }

    /** What NCCL is given: a slice's address is the allocation's plus its byte offset; a stream; ordinal 0. */
    @Test
    void rawDeviceMemory() {
        DeviceMemory m = dev.deviceMemory();
        assertTrue(m != null, "cuda has device memory");
        try (DeviceBuffer b = dev.allocFloat(100)) {
            assertTrue(m.address(b) != 0);
            assertEquals(m.address(b) + 4 * 37, m.address(b.slice(37, 10)));
            assertEquals(m.address(b) + 4 * 40, m.address(b.slice(37, 10).slice(3, 2)));
        }
        assertTrue(m.stream() != 0, "the device's own stream, not the legacy default stream");
        assertEquals(0, m.ordinal());
        m.makeCurrent();
        try (Device other = Devices.open("cuda:0").device()) {
            try (DeviceBuffer b = other.allocFloat(4)) {
                assertThrows(IllegalArgumentException.class, () -> m.address(b), "another device's buffer");
            }
        }
    }
}
