package dev.salvo.device.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.device.Probe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** On a machine without an NVIDIA driver, CUDA is unavailable with the reason, and auto moves on. */
class CudaProviderTest {

    @Test
    void withoutADriverCudaIsUnavailableAndAutoMovesOn() {
        Probe p = new CudaProvider().probe();
        Assumptions.assumeFalse(p.isAvailable(), "a CUDA device is present: tests-gpu covers it");
        assertFalse(p.unavailableReason().isBlank());
        DeviceException.Unavailable e = assertThrows(DeviceException.Unavailable.class, () -> Devices.open("cuda:0"));
        assertTrue(e.getMessage().startsWith("cuda"), e.getMessage());
        Devices.Selection s = Devices.open("auto");
        try (Device d = s.device()) {
            assertTrue(s.report().stream().anyMatch(l -> l.startsWith("cuda: not used: unavailable: " + p.unavailableReason())),
                    s.report().toString());
            assertFalse(d.info().provider().equals("cuda"), d.info().id()); // cpu, or an OpenCL GPU where there is one
        }
    }

    @Test
    void ptxHandedToTheDriverIsNulTerminated() {
        byte[] b = CudaCompiler.nulTerminated(".version 8.0");
        assertEquals(0, b[b.length - 1]);
        assertEquals(b.length, CudaCompiler.nulTerminated(new String(b, java.nio.charset.StandardCharsets.US_ASCII)).length);
    }
}
