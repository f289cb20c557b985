package dev.salvo.gpu;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.dist.Communicator;
import dev.salvo.dist.Nccl;
import dev.salvo.dist.SingleProcess;

/**
 * Run by {@link NcclSmokeTest} on a JDK 22+: NCCL with one rank on {@code cuda:0} all-reduces a
 * slice of a device buffer in place, which must leave it (and the elements around it) bit for bit
 * unchanged. Prints one line per fact; the test reads them.
 */
public final class NcclSmokeMain {

    private NcclSmokeMain() {
    }

    private static void say(String s) {
        System.out.println(s);
        System.out.flush();
    }

    public static void main(String[] args) {
        int n = (1 << 20) + 3;
        float[] host = new float[n + 16];
        for (int i = 0; i < host.length; i++) {
            host[i] = i < 5 || i >= 5 + n ? 7777f : (float) Math.sin(i) * 1e3f;
        }
        host[9] = Float.NaN;
        host[10] = -0f;
        say("supported " + Nccl.supported());
        try (Device d = Devices.open("cuda:0").device()) {
            say("device " + d.info().name());
            try (DeviceBuffer root = d.allocFloat(host.length); Communicator c = Nccl.open(SingleProcess.INSTANCE, d, null)) {
                d.upload(host, root);
                say("describe " + c.describe());
                say("onDevice " + c.reducesOnDevice(d));
                c.allReduceSum(d, root.slice(5, n));
                float[] back = new float[host.length];
                d.download(root, back);
                int bad = 0;
                for (int i = 0; i < host.length; i++) {
                    if (Float.floatToRawIntBits(back[i]) != Float.floatToRawIntBits(host[i]) && !(Float.isNaN(host[i]) && Float.isNaN(back[i]))) {
                        if (bad++ < 5) {
                            say("differs at " + i + ": " + host[i] + " became " + back[i]);
                        }
                    }
                }
                say("unchanged " + (bad == 0) + " (" + bad + " of " + host.length + " differ)");
            }
            say("closed");
        } catch (RuntimeException e) {
            say("error " + e);
            e.printStackTrace(System.out);
        }
    }
}
