package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

/**
 * {@code SALVO_REQUIRE} turns a contract's skip into a failure even when the skip is decided before
 * any device is opened ({@link DeviceContract#skipReason()}, as {@code OpenClGpuContractTest} does
 * when there is no OpenCL GPU): a required device can never pass as "skipped". The requirement a
 * contract answers to is {@link DeviceContract#requirement()} ({@code opencl-gpu} there, so CI's
 * {@code SALVO_REQUIRE=cpu,opencl} on a machine with only PoCL still skips it).
 */
class DeviceContractRequireTest {

    /** A contract that never finds its device, the way OpenClGpuContractTest finds no GPU. */
    private static DeviceContract noGpu() {
        return new DeviceContract() {
            @Override
            protected String selector() {
                return "opencl:0";
            }

            @Override
            protected String skipReason() {
                return "no OpenCL GPU device";
            }

            @Override
            protected String requirement() {
                return "opencl-gpu";
            }
        };
    }

    private static void withRequire(String value, Runnable r) {
        String old = System.getProperty("salvo.require");
        System.setProperty("salvo.require", value);
        try {
            r.run();
        } finally {
            if (old == null) {
                System.clearProperty("salvo.require");
            } else {
                System.setProperty("salvo.require", old);
            }
        }
    }

    @Test
    void aRequiredDeviceSkippedBeforeOpeningFails() {
        withRequire("cpu,opencl-gpu", () -> {
            DeviceContract c = noGpu();
            AssertionFailedError e = assertThrows(AssertionFailedError.class, c::openOnce);
            assertTrue(e.getMessage().contains("opencl-gpu") && e.getMessage().contains("no OpenCL GPU device"), e.getMessage());
        });
    }

    @Test
    void otherRequirementsStillSkipIt() {
        withRequire("cpu,opencl", () -> {
            DeviceContract c = noGpu();
            c.openOnce(); // no failure: opencl (PoCL) is required, an OpenCL GPU is not
            TestAbortedException e = assertThrows(TestAbortedException.class, c::needDevice);
            assertTrue(e.getMessage().contains("no OpenCL GPU device"), e.getMessage());
        });
    }
}
