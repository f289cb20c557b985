package dev.salvo.device.cuda;

import dev.salvo.kernel.NativeConfig;
import dev.salvo.kernel.TuningTable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;

/** The CUDA provider's compile settings ({@code native-config/cuda.properties}) and launch shapes ({@code cuda-tuning.csv}). */
record CudaSettings(List<String> compilers, Path nvcc, String nvccOptions, String nvrtcOptions, Path prebuiltDir,
                    boolean cache, boolean syncEveryLaunch, boolean tf32, TuningTable.Tuning tuning) {

    static final String FILE = "cuda.properties";
    static final List<String> KNOWN = List.of("nvrtc", "nvcc", "prebuilt");

    static CudaSettings load(String deviceName) {
        return load(deviceName, null);
    }

    /** The settings with {@code tuning} in place of the table's row (when not null). */
    static CudaSettings load(String deviceName, TuningTable.Tuning tuning) {
        Properties p = NativeConfig.load(FILE);
        List<String> compilers = Arrays.stream(p.getProperty("compilers", "nvrtc,nvcc,prebuilt").split(","))
                .map(s -> s.trim().toLowerCase(Locale.ROOT)).filter(s -> !s.isEmpty()).toList();
        for (String c : compilers) {
            if (!KNOWN.contains(c)) {
                throw new IllegalArgumentException(NativeConfig.describe(FILE) + ": key 'compilers': unknown compiler '" + c
                        + "' (expected nvrtc, nvcc, prebuilt)");
            }
        }
        String prebuilt = p.getProperty("prebuilt.dir", "").trim();
        if (prebuilt.isEmpty()) {
            prebuilt = System.getenv().getOrDefault("SALVO_CUDA_PREBUILT", "");
        }
        TuningTable.Tuning t = tuning != null ? tuning : TuningTable.lookup("cuda-tuning.csv", deviceName);
        if (t.maxWorkGroup() > 1024) {
            throw new IllegalArgumentException(NativeConfig.describe("cuda-tuning.csv") + ": row '" + t.row()
                    + "' launches a block of " + t.maxWorkGroup() + " threads, more than CUDA's 1024");
        }
        return new CudaSettings(compilers, nvcc(p.getProperty("nvcc.path", "auto").trim()),
                p.getProperty("nvcc.options", "-O3").trim(), p.getProperty("nvrtc.options", "").trim(),
                prebuilt.isEmpty() ? null : Path.of(prebuilt), NativeConfig.boolValue(p, FILE, "cache", true),
                NativeConfig.boolValue(p, FILE, "sync.every.launch", false), NativeConfig.boolValue(p, FILE, "matmul.tf32", false), t);
    }

    /** The nvcc to run, or null when there is none. */
    static Path nvcc(String configured) {
        if (!configured.isEmpty() && !configured.equals("auto")) {
            return Path.of(configured);
        }
        String home = System.getenv("CUDA_HOME");
        if (home != null && Files.isExecutable(Path.of(home, "bin", "nvcc"))) {
            return Path.of(home, "bin", "nvcc");
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nvcc"))) {
                return Path.of(dir, "nvcc");
            }
        }
        Path std = Path.of("/usr/local/cuda/bin/nvcc");
        return Files.isExecutable(std) ? std : null;
    }
}
