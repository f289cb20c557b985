package dev.salvo.device.cpu;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.DeviceProvider;
import dev.salvo.device.Probe;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** The pure-Java provider: always available, one device ({@code cpu:0}) using every core. */
public final class CpuProvider implements DeviceProvider {

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public Probe probe() {
        try {
            return Probe.available(name(), List.of(info(CpuSettings.load())));
        } catch (IllegalArgumentException e) {
            return Probe.unavailable(name(), e.getMessage());
        }
    }

    static DeviceInfo info(CpuSettings s) {
        String simd = s.simd() ? "Vector API " + CpuGemmInfo.lanes() + " float lanes"
                : CpuGemm.vectorApiAvailable() ? "scalar (simd=false)" : "scalar (jdk.incubator.vector not loaded)";
        return new DeviceInfo("cpu", 0, cpuName(), DeviceKind.CPU, Runtime.getRuntime().maxMemory(), s.threads(),
                "pure Java, " + s.threads() + " threads, matmul " + simd + ", Java " + Runtime.version().feature());
    }

    @Override
    public Device open(int index) {
        if (index != 0) {
            throw new DeviceException.Unavailable("cpu:" + index, "the cpu provider has one device, cpu:0");
        }
        return open(CpuSettings.load());
    }

    /** Opens the CPU device with explicit settings (tests and benchmarks). */
    public static CpuDevice open(CpuSettings settings) {
        return new CpuDevice(info(settings), settings);
    }

    private static String cpuName() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: fall through
        }
        return System.getProperty("os.arch") + " CPU";
    }
}
