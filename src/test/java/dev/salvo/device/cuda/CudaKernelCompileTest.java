package dev.salvo.device.cuda;

import dev.salvo.device.DeviceContract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.DeviceException;
import dev.salvo.kernel.KernelFamilies;
import dev.salvo.kernel.KernelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every CUDA kernel compiles with the nvcc on this machine, through the provider's own compile
 * path: a cubin for sm_90 and PTX for compute_90. No GPU is needed. Skipped when there is no nvcc,
 * unless SALVO_REQUIRE lists nvcc (CI does when nvcc is installed).
 */
class CudaKernelCompileTest {

    static Path nvcc;

    @BeforeEach
    void findNvcc() {
        nvcc = CudaSettings.nvcc("auto");
        if (nvcc == null) {
            if (DeviceContract.required("nvcc")) {
                throw new AssertionError("SALVO_REQUIRE lists nvcc but no nvcc was found (CUDA_HOME, PATH, /usr/local/cuda)");
            }
            Assumptions.abort("nvcc not found: CUDA kernels not compiled");
        }
    }

    @Test
    void everyKernelCompilesToCubinAndPtx(@TempDir Path out) throws IOException {
        List<String> lines = CudaPrebuild.compileAll(nvcc, List.of("sm_90", "compute_90"), out);
        assertEquals(2 * (KernelFamilies.ALL.size() + KernelFamilies.CUDA_TENSOR_CORES.size()), lines.size());
        java.util.Map<String, List<String>> all = new java.util.LinkedHashMap<>(KernelFamilies.ALL);
        all.putAll(KernelFamilies.CUDA_TENSOR_CORES);
        for (String family : all.keySet()) {
            String stem = family.replace(".kernel", "");
            String ptx = Files.readString(out.resolve(stem + ".compute_90.ptx"), StandardCharsets.US_ASCII);
            assertEquals(0, ptx.charAt(ptx.length() - 1), "PTX for the driver ends with a NUL");
            if (KernelFamilies.CUDA_TENSOR_CORES.containsKey(family)) {
                assertTrue(ptx.contains("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32"), family + " uses the TF32 tensor-core mma");
            }
            for (String k : all.get(family)) {
                assertTrue(ptx.contains(".entry " + k + "("), family + " defines kernel " + k + " (unmangled)");
            }
        }
        try (var files = Files.list(out)) {
            assertEquals(all.size(), files.filter(f -> f.toString().endsWith(".sm_90.cubin")).count());
        }
    }

    @Test
    void aSyntaxErrorNamesTheFileTheCompilerAndTheLog(@TempDir Path dir) throws IOException {
        String bad = KernelSource.read("reduce.kernel").replace("out[oo + c] = s;", "out[oo + c] = s");
        Files.writeString(dir.resolve("reduce.kernel"), bad, StandardCharsets.UTF_8);
        System.setProperty("salvo.kernels", dir.toString());
        try {
            String unit = CudaCompiler.unit("reduce.kernel", KernelFamilies.defines(16, 256));
            DeviceException.KernelCompile e = assertThrows(DeviceException.KernelCompile.class,
                    () -> CudaCompiler.nvcc(nvcc, "reduce.kernel", unit, "sm_90", "-O3"));
            assertTrue(e.file().endsWith("reduce.kernel") && e.file().startsWith(dir.toString()), e.file());
            assertTrue(e.device().startsWith("nvcc "), e.device());
            assertTrue(e.log().contains("reduce.kernel") && e.log().contains("error"), e.log());
        } finally {
            System.clearProperty("salvo.kernels");
        }
    }
}
