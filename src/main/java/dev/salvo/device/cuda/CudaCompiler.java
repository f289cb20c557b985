package dev.salvo.device.cuda;

import static jcuda.nvrtc.JNvrtc.nvrtcCompileProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcCreateProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcDestroyProgram;
import static jcuda.nvrtc.JNvrtc.nvrtcGetPTX;
import static jcuda.nvrtc.JNvrtc.nvrtcGetProgramLog;

import dev.salvo.device.DeviceException;
import dev.salvo.kernel.CompileCache;
import dev.salvo.kernel.KernelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jcuda.nvrtc.JNvrtc;
import jcuda.nvrtc.nvrtcProgram;
import jcuda.nvrtc.nvrtcResult;

/**
 * Turns one kernel family into a module image the driver loads. Order: the compile cache (keyed by
 * source, options, architecture, driver version and compiler), then the compilers named in
 * {@code cuda.properties} ({@code nvrtc}: PTX through JCuda's NVRTC binding, which needs
 * {@code libnvrtc.so.12}; {@code nvcc}: a cubin for the exact architecture, which loads on any
 * driver that knows the architecture; {@code prebuilt}: cubins made ahead of time). A compiler
 * that is missing is skipped with its reason; a compiler that rejects the source raises
 * {@link DeviceException.KernelCompile} with the file, the compiler and its full log; when no way
 * works, the device is unavailable with every reason. PTX handed to the driver ends with a NUL.
 */
final class CudaCompiler {

    /** A module image: a cubin, or NUL-terminated PTX. */
    record Image(byte[] data, boolean ptx, String compiler, boolean fromCache) {
    }

    private final CudaSettings settings;
    private final String arch;
    private final String driver;
    private final CompileCache cache = new CompileCache("cuda");

    CudaCompiler(CudaSettings settings, String arch, int driverVersion) {
        this.settings = settings;
        this.arch = arch;
        this.driver = Integer.toString(driverVersion);
    }

    /** The source unit of a family: tunables, the CUDA prelude, common.kernel and the family file. */
    static String unit(String family, java.util.Map<String, String> defines) {
        return KernelSource.unit("prelude-cuda.h", family, defines);
    }

    Image compile(String family, String unit) {
        List<String> reasons = new ArrayList<>();
        for (String c : settings.compilers()) {
            String key = CompileCache.key(unit, c, c.equals("nvcc") ? settings.nvccOptions() : settings.nvrtcOptions(), arch, driver);
            String suffix = c.equals("nvrtc") ? ".ptx" : ".cubin";
            if (settings.cache() && !c.equals("prebuilt")) {
                byte[] hit = cache.get(key, suffix);
                if (hit != null) {
                    return new Image(hit, c.equals("nvrtc"), c + " (cached)", true);
                }
            }
            Image img = switch (c) {
                case "nvrtc" -> nvrtc(family, unit, reasons);
                case "nvcc" -> settings.nvcc() == null ? skip(reasons, "nvcc: not found (set CUDA_HOME, put nvcc on the PATH or set "
                        + "nvcc.path in cuda.properties)") : nvcc(settings.nvcc(), family, unit, arch, settings.nvccOptions());
                case "prebuilt" -> prebuilt(family, unit, reasons);
                default -> throw new IllegalStateException(c);
            };
            if (img != null) {
                if (settings.cache() && !c.equals("prebuilt")) {
                    cache.put(key, suffix, img.data());
                }
                return img;
            }
        }
        throw new DeviceException.Unavailable("cuda", "no way to compile the kernels for " + arch + ": " + String.join("; ", reasons));
    }

    private static Image skip(List<String> reasons, String reason) {
        reasons.add(reason);
        return null;
    }

    private Image nvrtc(String family, String unit, List<String> reasons) {
        try {
            JNvrtc.setExceptionsEnabled(false);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError | ExceptionInInitializerError e) {
            return skip(reasons, "nvrtc: " + (String.valueOf(e.getMessage()).contains("nvrtc") ? "libnvrtc.so.12 not found"
                    : "JCuda's NVRTC binding could not be loaded (" + e.getMessage() + ")"));
        }
        nvrtcProgram prog = new nvrtcProgram();
        int r = nvrtcCreateProgram(prog, unit, family, 0, null, null);
        if (r != nvrtcResult.NVRTC_SUCCESS) {
            return skip(reasons, "nvrtc: nvrtcCreateProgram: " + nvrtcResult.stringFor(r));
        }
        try {
            List<String> opts = new ArrayList<>();
            opts.add("--gpu-architecture=compute_" + arch.substring(3));
            if (!settings.nvrtcOptions().isEmpty()) {
                opts.addAll(Arrays.asList(settings.nvrtcOptions().split("\\s+")));
            }
            r = nvrtcCompileProgram(prog, opts.size(), opts.toArray(new String[0]));
            String[] log = new String[1];
            nvrtcGetProgramLog(prog, log);
            if (r != nvrtcResult.NVRTC_SUCCESS) {
                throw new DeviceException.KernelCompile(KernelSource.locate(family), "NVRTC for " + arch,
                        nvrtcResult.stringFor(r) + ", options " + opts + "\n" + (log[0] == null ? "" : log[0].strip()));
            }
            String[] ptx = new String[1];
            int g = nvrtcGetPTX(prog, ptx);
            if (g != nvrtcResult.NVRTC_SUCCESS || ptx[0] == null) {
                return skip(reasons, "nvrtc: nvrtcGetPTX: " + nvrtcResult.stringFor(g));
            }
            return new Image(nulTerminated(ptx[0]), true, "nvrtc", false);
        } finally {
            nvrtcDestroyProgram(prog);
        }
    }

    static byte[] nulTerminated(String ptx) {
        byte[] b = ptx.getBytes(StandardCharsets.US_ASCII);
        if (b.length > 0 && b[b.length - 1] == 0) {
            return b;
        }
        return Arrays.copyOf(b, b.length + 1);
    }

    /**
     * Compiles a unit with nvcc into a cubin for {@code arch} (for example {@code sm_90}), or into PTX
     * for {@code compute_90}. Used at run time and by the CI check that every kernel compiles.
     */
    static Image nvcc(Path nvcc, String family, String unit, String arch, String options) {
        boolean ptx = arch.startsWith("compute_");
        Path dir = null;
        try {
            dir = Files.createTempDirectory("salvo-nvcc");
            Path src = dir.resolve(family.replace(".kernel", "") + ".cu");
            Path out = dir.resolve(ptx ? "out.ptx" : "out.cubin");
            Files.writeString(src, unit, StandardCharsets.UTF_8);
            List<String> cmd = new ArrayList<>(List.of(nvcc.toString(), ptx ? "-ptx" : "-cubin", "-arch=" + arch));
            if (!options.isEmpty()) {
                cmd.addAll(Arrays.asList(options.split("\\s+")));
            }
            cmd.addAll(List.of("-o", out.toString(), src.toString()));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new DeviceException.KernelCompile(KernelSource.locate(family), "nvcc " + nvcc + " for " + arch, "timed out after 300 s");
            }
            if (p.exitValue() != 0 || !Files.isRegularFile(out)) {
                throw new DeviceException.KernelCompile(KernelSource.locate(family), "nvcc " + nvcc + " for " + arch,
                        String.join(" ", cmd) + "\nexit " + p.exitValue() + "\n" + log.strip());
            }
            byte[] data = Files.readAllBytes(out);
            return new Image(ptx ? nulTerminated(new String(data, StandardCharsets.US_ASCII)) : data, ptx, "nvcc", false);
        } catch (IOException e) {
            throw new DeviceException.KernelCompile(KernelSource.locate(family), "nvcc " + nvcc + " for " + arch,
                    "could not run nvcc: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DeviceException.KernelCompile(KernelSource.locate(family), "nvcc " + nvcc, "interrupted");
        } finally {
            deleteTree(dir);
        }
    }

    /** Name of a prebuilt cubin: family, a hash of the exact source and nvcc options, architecture. */
    static String prebuiltName(String family, String unit, String nvccOptions, String arch) {
        return family.replace(".kernel", "") + "-" + CompileCache.key(unit, nvccOptions).substring(0, 16) + "." + arch + ".cubin";
    }

    private Image prebuilt(String family, String unit, List<String> reasons) {
        if (settings.prebuiltDir() == null) {
            return skip(reasons, "prebuilt: no directory (set SALVO_CUDA_PREBUILT or prebuilt.dir in cuda.properties)");
        }
        Path f = settings.prebuiltDir().resolve(prebuiltName(family, unit, settings.nvccOptions(), arch));
        try {
            if (Files.isRegularFile(f)) {
                return new Image(Files.readAllBytes(f), false, "prebuilt " + f, false);
            }
        } catch (IOException e) {
            return skip(reasons, "prebuilt: cannot read " + f + ": " + e.getMessage());
        }
        return skip(reasons, "prebuilt: no " + f.getFileName() + " in " + settings.prebuiltDir());
    }

    private static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temp directory left behind is harmless
        }
    }
}
