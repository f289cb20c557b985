package dev.salvo.device.opencl;

import static org.jocl.CL.*;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.DeviceProvider;
import dev.salvo.device.Probe;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.TunableProvider;
import dev.salvo.kernel.TuningTable;
import java.util.ArrayList;
import java.util.List;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * OpenCL through JOCL. Devices of every platform are numbered in one sequence ({@code opencl:0},
 * {@code opencl:1}, ...) in platform order. A missing OpenCL library, no ICD or no platform makes
 * the provider unavailable with the reason; nothing native is touched before {@link #probe()}.
 */
public final class OpenClProvider implements DeviceProvider, TunableProvider {

    /** One OpenCL device with its platform. */
    record Found(DeviceInfo info, cl_platform_id platform, cl_device_id device) {
    }

    @Override
    public String name() {
        return "opencl";
    }

    @Override
    public int priority() {
        return 20;
    }

    @Override
    public Probe probe() {
        try {
            List<DeviceInfo> infos = new ArrayList<>();
            for (Found f : find()) {
                infos.add(f.info());
            }
            return Probe.available(name(), infos);
        } catch (DeviceException.Unavailable e) {
            return Probe.unavailable(name(), e.reason());
        } catch (DeviceException e) {
            return Probe.unavailable(name(), e.getMessage());
        }
    }

    static List<Found> find() {
        Cl.load();
        int[] count = new int[1];
        int status = clGetPlatformIDs(0, null, count);
        if (status == Cl.PLATFORM_NOT_FOUND_KHR || status == CL_SUCCESS && count[0] == 0) {
            throw new DeviceException.Unavailable("opencl", "no OpenCL platform (CL_PLATFORM_NOT_FOUND_KHR): the ICD loader "
                    + "found no driver; install one (for a CPU: Debian's pocl-opencl-icd)");
        }
        Cl.check("clGetPlatformIDs", status);
        cl_platform_id[] platforms = new cl_platform_id[count[0]];
        Cl.check("clGetPlatformIDs", clGetPlatformIDs(platforms.length, platforms, null));
        List<Found> found = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            int[] n = new int[1];
            int s = clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
            if (s == CL_DEVICE_NOT_FOUND || n[0] == 0) {
                continue;
            }
            Cl.check("clGetDeviceIDs", s);
            cl_device_id[] devs = new cl_device_id[n[0]];
            Cl.check("clGetDeviceIDs", clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, devs.length, devs, null));
            String platformName = Cl.platformString(p, CL_PLATFORM_NAME);
            for (cl_device_id d : devs) {
                long type = Cl.deviceLong(d, CL_DEVICE_TYPE);
                DeviceKind kind = (type & CL_DEVICE_TYPE_GPU) != 0 ? DeviceKind.GPU
                        : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? DeviceKind.ACCELERATOR : DeviceKind.CPU;
                String details = "platform " + platformName + " (" + Cl.platformString(p, CL_PLATFORM_VERSION) + "), "
                        + Cl.deviceString(d, CL_DEVICE_VERSION) + ", driver " + Cl.deviceString(d, CL_DRIVER_VERSION);
                DeviceInfo info = new DeviceInfo("opencl", found.size(), Cl.deviceString(d, CL_DEVICE_NAME), kind,
                        Cl.deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE), Cl.deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS), details);
                found.add(new Found(info, p, d));
            }
        }
        if (found.isEmpty()) {
            throw new DeviceException.Unavailable("opencl", platforms.length + " OpenCL platform(s) but no devices");
        }
        return found;
    }

    @Override
    public Device open(int index) {
        List<Found> all = find();
        if (index < 0 || index >= all.size()) {
            throw new DeviceException.Unavailable("opencl:" + index, "no such device; OpenCL has opencl:0 to opencl:" + (all.size() - 1));
        }
        return new OpenClDevice(all.get(index));
    }

    @Override
    public String tuningFile() {
        return OpenClSettings.TUNING;
    }

    @Override
    public KernelDevice openTuned(int index, TuningTable.Tuning tuning) {
        List<Found> all = find();
        if (index < 0 || index >= all.size()) {
            throw new DeviceException.Unavailable("opencl:" + index, "no such device; OpenCL has opencl:0 to opencl:" + (all.size() - 1));
        }
        return new OpenClDevice(all.get(index), tuning);
    }
}
