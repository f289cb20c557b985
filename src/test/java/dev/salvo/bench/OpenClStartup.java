package dev.salvo.bench;

import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.device.opencl.OpenClDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Start-up cost of the OpenCL provider: opening {@code opencl:0} (context, queue, building every
 * kernel program) cold, with an empty Salvo program cache, and warm, from the cache. Prints the
 * median and [min-max] of {@code runs} opens each. PoCL keeps its own cache of compiled kernels
 * too; run with {@code POCL_KERNEL_CACHE=0} to make "cold" really cold.
 * Usage: {@code OpenClStartup [runs]}.
 */
public final class OpenClStartup {

    private OpenClStartup() {
    }

    public static void main(String[] args) throws IOException {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        double[] cold = new double[runs];
        double[] warm = new double[runs];
        for (int r = 0; r < runs; r++) {
            Path dir = Files.createTempDirectory("salvo-cache");
            System.setProperty("salvo.cacheDir", dir.toString());
            cold[r] = open(0);
            warm[r] = open(5);
        }
        System.out.println(line("cold (empty Salvo cache)", cold));
        System.out.println(line("warm (programs from cache)", warm));
        System.exit(0);
    }

    private static double open(int expectedFromCache) {
        long t0 = System.nanoTime();
        try (Device d = Devices.open("opencl:0").device()) {
            OpenClDevice.BuildReport r = ((OpenClDevice) d).buildReport();
            if (r.fromCache() != expectedFromCache) {
                throw new IllegalStateException("expected " + expectedFromCache + " programs from the cache, got " + r);
            }
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static String line(String what, double[] s) {
        double[] v = s.clone();
        Arrays.sort(v);
        double med = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        return String.format(Locale.ROOT, "%-28s median %.3f s [%.3f-%.3f] over %d opens", what, med, v[0], v[v.length - 1], v.length);
    }
}
