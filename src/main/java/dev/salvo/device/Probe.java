package dev.salvo.device;

import java.util.List;

/**
 * What a provider found when it looked for devices: either a list of devices or the reason it is
 * unavailable (for example {@code libOpenCL.so not found}). Probing never throws.
 */
public record Probe(String provider, List<DeviceInfo> devices, String unavailableReason) {

    public Probe {
        devices = List.copyOf(devices);
    }

    public static Probe available(String provider, List<DeviceInfo> devices) {
        if (devices.isEmpty()) {
            return unavailable(provider, "no devices found");
        }
        return new Probe(provider, devices, null);
    }

    public static Probe unavailable(String provider, String reason) {
        return new Probe(provider, List.of(), reason);
    }

    public boolean isAvailable() {
        return unavailableReason == null;
    }
}
