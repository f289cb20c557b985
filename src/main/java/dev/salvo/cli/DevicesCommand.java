package dev.salvo.cli;

import dev.salvo.device.DeviceInfo;
import dev.salvo.device.Devices;
import dev.salvo.device.Probe;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code salvo devices}: every provider and device, available or not and why. */
@Command(name = "devices", mixinStandardHelpOptions = true,
        description = "List every device provider and device: available or not and why, name, memory, compute units.",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED})
final class DevicesCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (Probe p : Devices.probeAll()) {
            if (!p.isAvailable()) {
                out.printf("%-10s unavailable: %s%n", p.provider(), p.unavailableReason());
                continue;
            }
            for (DeviceInfo d : p.devices()) {
                out.printf("%-10s %-12s %s%n", d.provider(), d.id(), d.name());
                out.printf("%-10s %-12s kind %s, memory %s, %d compute units%n", "", "", d.kind().name().toLowerCase(),
                        Format.bytes(d.memoryBytes()), d.computeUnits());
                if (!d.details().isEmpty()) {
                    out.printf("%-10s %-12s %s%n", "", "", d.details());
                }
            }
        }
        out.println("default selection: " + Devices.defaultSelector()
                + " (auto order: cuda, opencl GPUs/accelerators, then cpu; --device, -Dsalvo.device or SALVO_DEVICE override)");
        return 0;
    }
}
