package dev.salvo.device.opencl;

import dev.salvo.device.DeviceContract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.kernel.KernelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provider-level behaviour of OpenCL: compile errors, the program cache, and "unavailable" without a platform. */
class OpenClProviderTest {

    /** Reported as a skip on every test (not only on the class) when OpenCL is missing. */
    @BeforeEach
    void needOpenCl() {
        DeviceContract.availableOrSkip("opencl");
    }

    private static void withProps(Runnable r, String... kv) {
        try {
            for (int i = 0; i < kv.length; i += 2) {
                System.setProperty(kv[i], kv[i + 1]);
            }
            r.run();
        } finally {
            for (int i = 0; i < kv.length; i += 2) {
                System.clearProperty(kv[i]);
            }
        }
    }

    @Test
    void aBrokenKernelNamesTheFileTheDeviceAndTheLog(@TempDir Path dir) throws IOException {
        String good = KernelSource.read("elementwise.kernel");
        Files.writeString(dir.resolve("elementwise.kernel"), good.replace("if (i < n) x[xo + i] = v;", "if (i < n) x[xo + i] = v"),
                StandardCharsets.UTF_8);
        withProps(() -> {
            DeviceException.KernelCompile e = assertThrows(DeviceException.KernelCompile.class, () -> Devices.open("opencl:0"));
            assertTrue(e.file().endsWith(dir.resolve("elementwise.kernel").toString()), e.file());
            assertTrue(e.device().startsWith("opencl:0"), e.device());
            assertTrue(e.log().contains("elementwise.kernel") && e.log().toLowerCase().contains("error"), e.log());
            assertTrue(e.getMessage().contains(e.log()), "the message carries the full log");
        }, "salvo.kernels", dir.toString(), "salvo.opencl.cache", "false");
        // the untouched files still come from the jar: a good override builds
        Files.writeString(dir.resolve("elementwise.kernel"), good, StandardCharsets.UTF_8);
        withProps(() -> Devices.open("opencl:0").device().close(), "salvo.kernels", dir.toString(), "salvo.opencl.cache", "false");
    }

    /** {@code salvo check --device opencl:0} with the kernels of {@code dir} over the jar's: it must exit 1; its output. */
    private static String checkWithKernels(Path dir) {
        java.io.StringWriter out = new java.io.StringWriter();
        int[] code = new int[1];
        withProps(() -> code[0] = dev.salvo.cli.Main.run(new String[] {"check", "--device", "opencl:0"},
                new java.io.PrintWriter(out, true), new java.io.PrintWriter(out, true)),
                "salvo.kernels", dir.toString(), "salvo.opencl.cache", "false");
        assertEquals(1, code[0], out.toString());
        return out.toString();
    }

    @Test
    void salvoCheckCatchesAWrongKernel(@TempDir Path dir) throws IOException {
        // a kernel that compiles but computes LeakyReLU with the wrong slope
        String common = KernelSource.read("common.kernel");
        Files.writeString(dir.resolve("common.kernel"), common.replace("z > 0.0f ? z : 0.01f * z", "z > 0.0f ? z : 0.02f * z"),
                StandardCharsets.UTF_8);
        String out = checkWithKernels(dir);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("elementwise.act_forward") && l.contains(" leaky-relu, n=1237 ")
                && l.contains("FAIL")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("elementwise.act_forward") && l.contains(" relu, n=1237 ")
                && l.contains("pass")), out);
    }

    @Test
    void salvoCheckCatchesAKernelThatHidesNaN(@TempDir Path dir) throws IOException {
        // the ReLU of before issue 12: z > 0 ? z : 0 maps NaN to 0 and is right on every finite input
        String common = KernelSource.read("common.kernel");
        String hiding = common.replace("#define SALVO_ACT_RELU(z, zero) (z <= 0.0f ? zero : z)", "#define SALVO_ACT_RELU(z, zero) (z > 0.0f ? z : zero)");
        assertTrue(!hiding.equals(common), "the ReLU macro moved: update this test");
        Files.writeString(dir.resolve("common.kernel"), hiding, StandardCharsets.UTF_8);
        String out = checkWithKernels(dir);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("elementwise.act_forward") && l.contains(" relu, n=1237, NaN/inf ")
                && l.contains("FAIL")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("elementwise.act_forward") && l.contains(" relu, n=1237 ")
                && l.contains("pass")), out);
    }

    @Test
    void aWarmStartLoadsEveryProgramFromTheCache(@TempDir Path cache) {
        withProps(() -> {
            OpenClDevice.BuildReport cold;
            OpenClDevice.BuildReport warm;
            try (Device d = Devices.open("opencl:0").device()) {
                cold = ((OpenClDevice) d).buildReport();
            }
            try (Device d = Devices.open("opencl:0").device()) {
                warm = ((OpenClDevice) d).buildReport();
            }
            assertEquals(0, cold.fromCache(), "cold start compiles");
            assertEquals(warm.programs(), warm.fromCache(), "warm start rebuilds nothing");
        }, "salvo.cacheDir", cache.toString());
    }

    @Test
    void noPlatformIsUnavailableNotACrash() throws Exception {
        // a child JVM whose ICD loader finds no vendor: OpenCL must be "unavailable", the CPU still works
        // the class path of this JVM may be a launcher's only (JUnit console): add where Salvo's classes came from
        String cp = dev.salvo.Check.childClassPath(dev.salvo.cli.Main.class, org.jocl.CL.class, picocli.CommandLine.class,
                com.fasterxml.jackson.databind.ObjectMapper.class, com.fasterxml.jackson.core.JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonProperty.class, jcuda.driver.JCudaDriver.class);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", cp, "dev.salvo.cli.Main", "devices");
        pb.environment().put("OCL_ICD_VENDORS", "/nonexistent-salvo-test");
        pb.environment().remove("OCL_ICD_FILENAMES");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("opencl") && l.contains("unavailable")), out);
        assertTrue(out.contains("cpu:0"), out);
    }
}
