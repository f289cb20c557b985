package dev.salvo.dist;

import dev.salvo.device.DType;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.DeviceMemory;
import java.lang.reflect.Proxy;
import java.nio.file.Path;

/**
 * Run by {@link NcclFfmTest} on a JDK 22+ (with the multi-release classes first on the class path):
 * opens {@link Nccl} on a fake CUDA device over a fake {@code libnccl.so.2} that prints the
 * arguments it receives, all-reduces a device buffer and closes, printing what Java sees. The
 * device's memory is never touched: the fake library only prints the pointers.
 */
public final class NcclFakeMain {

    private NcclFakeMain() {
    }

    private static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }

    public static void main(String[] args) {
        Path lib = args[0].equals("-") ? null : Path.of(args[0]);
        boolean cuda = !(args.length > 1 && args[1].equals("not-cuda"));
        DeviceInfo info = new DeviceInfo("cuda", 0, "fake", DeviceKind.values()[0], 1 << 30, 1, "fake");
        DeviceMemory memory = new DeviceMemory() {
            @Override
            public long address(DeviceBuffer b) {
                return 0x7f0000001000L + 4 * 5;
            }

            @Override
            public long stream() {
                return 0x5eaL;
            }

            @Override
            public int ordinal() {
                return 0;
            }

            @Override
            public void makeCurrent() {
                say("java makeCurrent");
            }
        };
        Device device = (Device) Proxy.newProxyInstance(Device.class.getClassLoader(), new Class<?>[] {Device.class}, (p, m, a) -> {
            switch (m.getName()) {
                case "deviceMemory":
                    return cuda ? memory : null;
                case "info":
                    return info;
                case "synchronize":
                    say("java synchronize");
                    return null;
                default:
                    throw new UnsupportedOperationException(m.getName());
            }
        });
        DeviceBuffer buf = (DeviceBuffer) Proxy.newProxyInstance(Device.class.getClassLoader(), new Class<?>[] {DeviceBuffer.class},
                (p, m, a) -> switch (m.getName()) {
                    case "dtype" -> DType.FLOAT;
                    case "length" -> 1000L;
                    case "device" -> device;
                    default -> throw new UnsupportedOperationException(m.getName());
                });
        say("java supported " + Nccl.supported());
        try (Communicator c = Nccl.open(SingleProcess.INSTANCE, device, lib)) {
            say("java describe " + c.describe());
            say("java onDevice " + c.reducesOnDevice(device) + " " + c.reducesOnDevice(null));
            say("java rank " + c.rank() + " of " + c.size());
            c.allReduceSum(device, buf);
            say("java reduced");
        } catch (DistributedException e) {
            say("java error " + e.getMessage());
        }
    }
}
