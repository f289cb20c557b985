package dev.salvo.device.cuda;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.DeviceProvider;
import dev.salvo.device.Probe;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.TunableProvider;
import dev.salvo.kernel.TuningTable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import jcuda.driver.CUdevice;
import jcuda.driver.CUresult;

/**
 * CUDA through JCuda's driver API. Needs only {@code libcuda.so.1} from the NVIDIA driver; kernels
 * are compiled by {@link CudaCompiler}. No driver, no device or a driver too old for the bindings
 * makes the provider unavailable with the reason; nothing native is touched before {@link #probe()}.
 */
public final class CudaProvider implements DeviceProvider, TunableProvider {

    /** JCuda's version: the CUDA version its bindings were built for. */
    static final String BINDINGS = "JCuda 12.6.0 (CUDA 12.6 bindings)";

    /** A device with what the compiler and the device need to know. */
    record Found(DeviceInfo info, int ordinal, int major, int minor, int driverVersion) {
        String arch() {
            return "sm_" + major + minor;
        }
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public Probe probe() {
        try {
            return Probe.available(name(), find().stream().map(Found::info).toList());
        } catch (DeviceException.Unavailable e) {
            return Probe.unavailable(name(), e.reason() + " [bindings: " + BINDINGS + "]");
        } catch (DeviceException e) {
            return Probe.unavailable(name(), e.getMessage() + " [bindings: " + BINDINGS + "]");
        }
    }

    static String version(int v) {
        return v / 1000 + "." + v % 1000 / 10;
    }

    static List<Found> find() {
        Cu.load();
        int init = cuInit(0);
        if (init == CUresult.CUDA_ERROR_NO_DEVICE) {
            throw new DeviceException.Unavailable("cuda", "the NVIDIA driver reports no CUDA device");
        }
        if (init == CUresult.CUDA_ERROR_SYSTEM_DRIVER_MISMATCH || init == CUresult.CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE) {
            throw new DeviceException.Unavailable("cuda", "the NVIDIA driver is too old for " + BINDINGS + " (" + Cu.status(init) + ")");
        }
        Cu.check("cuInit", init);
        int[] driver = new int[1];
        Cu.check("cuDriverGetVersion", cuDriverGetVersion(driver));
        int[] count = new int[1];
        Cu.check("cuDeviceGetCount", cuDeviceGetCount(count));
        if (count[0] == 0) {
            throw new DeviceException.Unavailable("cuda", "the NVIDIA driver reports no CUDA device");
        }
        List<Found> found = new ArrayList<>();
        for (int i = 0; i < count[0]; i++) {
            CUdevice dev = new CUdevice();
            Cu.check("cuDeviceGet", cuDeviceGet(dev, i));
            byte[] name = new byte[256];
            Cu.check("cuDeviceGetName", cuDeviceGetName(name, name.length, dev));
            int n = 0;
            while (n < name.length && name[n] != 0) {
                n++;
            }
            int major = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(dev, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            int sms = attribute(dev, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            long[] mem = new long[1];
            Cu.check("cuDeviceTotalMem", cuDeviceTotalMem(mem, dev));
            String details = "compute capability " + major + "." + minor + ", " + sms + " SMs, driver CUDA "
                    + version(driver[0]) + ", " + BINDINGS;
            DeviceInfo info = new DeviceInfo("cuda", i, new String(name, 0, n, StandardCharsets.UTF_8).trim(), DeviceKind.GPU,
                    mem[0], sms, details);
            found.add(new Found(info, i, major, minor, driver[0]));
        }
        return found;
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = new int[1];
        Cu.check("cuDeviceGetAttribute", cuDeviceGetAttribute(v, attribute, dev));
        return v[0];
    }

    @Override
    public Device open(int index) {
        List<Found> all = find();
        if (index < 0 || index >= all.size()) {
            throw new DeviceException.Unavailable("cuda:" + index, "no such device; CUDA has cuda:0 to cuda:" + (all.size() - 1));
        }
        return new CudaDevice(all.get(index));
    }

    @Override
    public String tuningFile() {
        return "cuda-tuning.csv";
    }

    @Override
    public KernelDevice openTuned(int index, TuningTable.Tuning tuning) {
        List<Found> all = find();
        if (index < 0 || index >= all.size()) {
            throw new DeviceException.Unavailable("cuda:" + index, "no such device; CUDA has cuda:0 to cuda:" + (all.size() - 1));
        }
        return new CudaDevice(all.get(index), tuning);
    }
}
