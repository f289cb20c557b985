package dev.salvo.gpu;

import dev.salvo.device.DeviceContract;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.Devices;
import dev.salvo.device.Probe;

/**
 * The device contract on the first OpenCL GPU (for example NVIDIA's OpenCL platform); skipped when
 * there is none, unless {@code SALVO_REQUIRE} lists {@code opencl-gpu} (then it fails). CI's
 * {@code opencl} requirement (PoCL, a CPU device) does not make an OpenCL GPU required.
 */
class OpenClGpuContractTest extends DeviceContract {

    private static String firstGpu() {
        for (Probe p : Devices.probeAll()) {
            if (p.provider().equals("opencl")) {
                for (DeviceInfo d : p.devices()) {
                    if (d.kind() == DeviceKind.GPU) {
                        return d.id();
                    }
                }
            }
        }
        return null;
    }

    @Override
    protected String skipReason() {
        return firstGpu() == null ? "no OpenCL GPU device (salvo devices lists the OpenCL platforms)" : null;
    }

    @Override
    protected String requirement() {
        return "opencl-gpu";
    }

    @Override
    protected String selector() {
        String gpu = firstGpu();
        return gpu == null ? "opencl:0" : gpu;
    }
}
