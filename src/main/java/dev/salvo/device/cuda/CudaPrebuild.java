package dev.salvo.device.cuda;

import dev.salvo.kernel.KernelFamilies;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Compiles every kernel family with nvcc, exactly as the CUDA provider would, for the given
 * targets: {@code sm_XY} makes a cubin, {@code compute_XY} makes PTX. With an output directory the
 * cubins are written there under the names the provider's {@code prebuilt} compiler looks for.
 * Used by CI (every CUDA kernel must compile) and by {@code tests-gpu/build-bundle.sh}.
 * Usage: {@code CudaPrebuild [--out DIR] TARGET...}.
 */
public final class CudaPrebuild {

    private CudaPrebuild() {
    }

    /** Compiles all families for {@code targets}; returns one line per image. */
    public static List<String> compileAll(Path nvcc, List<String> targets, Path out) throws IOException {
        CudaSettings s = CudaSettings.load("prebuild");
        List<String> lines = new ArrayList<>();
        List<String> families = new ArrayList<>(KernelFamilies.ALL.keySet());
        families.addAll(KernelFamilies.CUDA_TENSOR_CORES.keySet());
        for (String family : families) {
            String unit = CudaCompiler.unit(family, KernelFamilies.defines(family, s.tuning()));
            for (String target : targets) {
                if (KernelFamilies.CUDA_TENSOR_CORES.containsKey(family) && archNumber(target) < 80) {
                    continue; // mma.sync with TF32 needs sm_80
                }
                CudaCompiler.Image img = CudaCompiler.nvcc(nvcc, family, unit, target, s.nvccOptions());
                String name = target.startsWith("sm_") ? CudaCompiler.prebuiltName(family, unit, s.nvccOptions(), target)
                        : family.replace(".kernel", "") + "." + target + ".ptx";
                if (out != null) {
                    Files.createDirectories(out);
                    Files.write(out.resolve(name), img.data());
                }
                lines.add(String.format("%-22s %-12s %8d bytes  %s", family, target, img.data().length, name));
            }
        }
        return lines;
    }

    /** 90 for sm_90 or compute_90. */
    static int archNumber(String target) {
        return Integer.parseInt(target.replaceAll("[^0-9]", ""));
    }

    public static void main(String[] args) throws IOException {
        Path out = null;
        List<String> targets = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out")) {
                out = Path.of(args[++i]);
            } else {
                targets.add(args[i]);
            }
        }
        if (targets.isEmpty()) {
            targets = List.of("sm_90", "compute_90");
        }
        Path nvcc = CudaSettings.nvcc(System.getProperty("salvo.cuda.nvcc.path", "auto"));
        if (nvcc == null) {
            System.err.println("CudaPrebuild: nvcc not found (set CUDA_HOME or put nvcc on the PATH)");
            System.exit(2);
        }
        for (String line : compileAll(nvcc, targets, out)) {
            System.out.println(line);
        }
    }
}
