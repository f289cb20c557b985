package dev.salvo.device.cpu;

import dev.salvo.kernel.NativeConfig;
import java.util.Properties;

/**
 * Tunables of the CPU provider from {@code native-config/cpu.properties} (see its README):
 * worker threads, matmul cache blocks and whether the Vector API kernel is used.
 */
public record CpuSettings(int threads, int mc, int kc, int nc, boolean simd) {

    static final String FILE = "cpu.properties";

    public static CpuSettings load() {
        Properties p = NativeConfig.load(FILE);
        int cores = Runtime.getRuntime().availableProcessors();
        return new CpuSettings(
                NativeConfig.intValue(p, FILE, "threads", cores, 1),
                NativeConfig.intValue(p, FILE, "gemm.mc", CpuGemm.DEFAULT_MC, 1),
                NativeConfig.intValue(p, FILE, "gemm.kc", CpuGemm.DEFAULT_KC, 1),
                NativeConfig.intValue(p, FILE, "gemm.nc", CpuGemm.DEFAULT_NC, 1),
                NativeConfig.boolValue(p, FILE, "simd", true) && CpuGemm.vectorApiAvailable());
    }

    public CpuSettings withThreads(int t) {
        return new CpuSettings(t, mc, kc, nc, simd);
    }

    public CpuSettings withSimd(boolean s) {
        return new CpuSettings(threads, mc, kc, nc, s && CpuGemm.vectorApiAvailable());
    }
}
