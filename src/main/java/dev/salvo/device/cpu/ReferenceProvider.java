package dev.salvo.device.cpu;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceProvider;
import dev.salvo.device.Probe;
import java.util.List;

/** Exposes {@link ReferenceDevice} as {@code --device reference}; {@code auto} never picks it. */
public final class ReferenceProvider implements DeviceProvider {

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public int priority() {
        return 1000;
    }

    @Override
    public Probe probe() {
        try (ReferenceDevice d = new ReferenceDevice()) {
            return Probe.available(name(), List.of(d.info()));
        }
    }

    @Override
    public Device open(int index) {
        if (index != 0) {
            throw new DeviceException.Unavailable("reference:" + index, "the reference provider has one device, reference:0");
        }
        return new ReferenceDevice();
    }
}
