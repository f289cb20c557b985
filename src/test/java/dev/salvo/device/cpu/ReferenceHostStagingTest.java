package dev.salvo.device.cpu;

import dev.salvo.device.HostStagingChecks;
import org.junit.jupiter.api.Test;

/** The host staging contract on the float64 reference device (it has no device contract of its own). */
class ReferenceHostStagingTest {

    @Test
    void hostStagingTransfers() {
        try (ReferenceDevice d = new ReferenceDevice()) {
            HostStagingChecks.check(d);
        }
    }
}
