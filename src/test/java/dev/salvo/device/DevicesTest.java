package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DevicesTest {

    @Test
    void autoPicksTheCpuWhenThereIsNoGpuAndSaysWhy() {
        Devices.Selection s = Devices.open("auto");
        try (Device d = s.device()) {
            assertEquals("cpu:0", d.info().id());
            assertTrue(s.report().get(0).startsWith("using cpu:0"), s.report().toString());
            assertTrue(s.report().stream().anyMatch(l -> l.startsWith("cuda: not used")), s.report().toString());
            assertTrue(s.report().stream().anyMatch(l -> l.startsWith("opencl: not used")), s.report().toString());
            assertTrue(s.report().stream().anyMatch(l -> l.startsWith("reference: not used")), s.report().toString());
        }
    }

    @Test
    void systemPropertySelectsTheDevice() {
        System.setProperty("salvo.device", "reference");
        try (Device d = Devices.open(null).device()) {
            assertEquals("reference:0", d.info().id());
        } finally {
            System.clearProperty("salvo.device");
        }
    }

    @Test
    void selectorsAreValidated() {
        assertThrows(IllegalArgumentException.class, () -> Devices.Selector.parse("tpu"));
        assertThrows(IllegalArgumentException.class, () -> Devices.Selector.parse("cpu:-1"));
        assertEquals(new Devices.Selector("opencl", 2), Devices.Selector.parse("OpenCL:2"));
        DeviceException.Unavailable e = assertThrows(DeviceException.Unavailable.class, () -> Devices.open("cpu:3"));
        assertTrue(e.getMessage().contains("cpu:3"), e.getMessage());
        assertThrows(DeviceException.Unavailable.class, () -> Devices.open("cuda"));
    }

    @Test
    void probeAllListsEveryKnownProvider() {
        var names = Devices.probeAll().stream().map(Probe::provider).toList();
        assertTrue(names.containsAll(java.util.List.of("cpu", "reference", "opencl", "cuda")), names.toString());
    }
}
