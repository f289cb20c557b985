package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class DevicesTest {

    /**
     * What {@code auto} must pick on this machine, from what the providers report: the first GPU or
     * accelerator in auto order, else cpu:0. (A CUDA or OpenCL GPU node picks the GPU; this
     * test asserts that there as it asserts cpu:0 on a CPU machine.)
     */
    private static DeviceInfo expectedAuto() {
        for (Probe p : Devices.probeAll()) {
            if (p.isAvailable()) {
                for (DeviceInfo d : p.devices()) {
                    if (d.kind() == DeviceKind.GPU || d.kind() == DeviceKind.ACCELERATOR) {
                        return d;
                    }
                }
            }
        }
        return null;
    }

    @Test
    void autoPicksTheFirstGpuElseTheCpuAndSaysWhy() {
        DeviceInfo gpu = expectedAuto();
        Devices.Selection s = Devices.open("auto");
        try (Device d = s.device()) {
            String id = d.info().id();
            String provider = id.split(":")[0];
            if (gpu == null) {
                assertEquals("cpu:0", id, s.report().toString());
                assertTrue(s.report().get(0).startsWith("using cpu:0"), s.report().toString());
                assertTrue(s.report().get(0).contains("no GPU or accelerator"), s.report().toString());
            } else if (!id.equals(gpu.id())) {
                // the first GPU did not open: auto moved on and said why
                assertTrue(s.report().stream().anyMatch(l -> l.startsWith(gpu.id() + ": not used")), s.report().toString());
            } else {
                assertTrue(s.report().get(0).startsWith("using " + gpu.id()), s.report().toString());
                assertTrue(s.report().get(0).contains("first GPU/accelerator"), s.report().toString());
            }
            // every other provider says why it was not used
            for (String other : java.util.List.of("cuda", "opencl", "cpu", "reference")) {
                if (!other.equals(provider)) {
                    assertTrue(s.report().stream().anyMatch(l -> l.startsWith(other + ": not used")),
                            other + " missing from " + s.report());
                }
            }
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
        // a device that no machine has: unavailable whether or not CUDA is there
        DeviceException.Unavailable none = assertThrows(DeviceException.Unavailable.class, () -> Devices.open("cuda:99"));
        assertTrue(none.getMessage().contains("cuda:99"), none.getMessage());
    }

    @Test
    void probeAllListsEveryKnownProvider() {
        var names = Devices.probeAll().stream().map(Probe::provider).toList();
        assertTrue(names.containsAll(java.util.List.of("cpu", "reference", "opencl", "cuda")), names.toString());
    }
}
