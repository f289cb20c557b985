package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.DeviceContract;
import dev.salvo.kernel.KernelSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 12, point 9: a kernel with a syntax error fails its device, not the whole check; train names it and exits 3. */
class BrokenKernelCliTest {

    @BeforeEach
    void needOpenCl() {
        DeviceContract.availableOrSkip("opencl");
    }

    /** A copy of one kernel file with a missing semicolon. */
    private static Path brokenKernels(Path dir) throws IOException {
        String good = KernelSource.read("elementwise.kernel");
        String bad = good.replace("if (i < n) x[xo + i] = v;", "if (i < n) x[xo + i] = v");
        assertFalse(bad.equals(good), "the syntax error was planted");
        Files.writeString(dir.resolve("elementwise.kernel"), bad, StandardCharsets.UTF_8);
        return dir.resolve("elementwise.kernel");
    }

    private static CliTest.Result withKernels(Path dir, String... args) {
        System.setProperty("salvo.kernels", dir.toString());
        System.setProperty("salvo.opencl.cache", "false");
        try {
            return CliTest.run(args);
        } finally {
            System.clearProperty("salvo.kernels");
            System.clearProperty("salvo.opencl.cache");
        }
    }

    @Test
    void checkMarksTheDeviceFailWithTheBuildLogAndGoesOnToTheNext(@TempDir Path dir) throws IOException {
        Path file = brokenKernels(dir);
        CliTest.Result r = withKernels(dir, "check", "--device", "opencl:0,cpu", "--json", dir.resolve("check.json").toString());
        String all = r.out() + r.err();
        assertEquals(1, r.code(), all);
        assertFalse(all.contains("\tat "), "no stack trace: " + all);
        List<String> lines = r.out().lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("== opencl:0")), all);
        assertTrue(lines.stream().anyMatch(l -> l.contains("FAIL") && l.startsWith("build kernels")), all);
        assertTrue(r.out().contains(file.toString()) && r.out().contains("elementwise.kernel") && r.out().toLowerCase().contains("error"),
                "the file and the build log: " + all);
        int cpu = r.out().indexOf("== cpu:0");
        assertTrue(cpu > 0, "went on to the CPU: " + all);
        assertTrue(r.out().substring(cpu).lines().anyMatch(l -> l.startsWith("matmul") && l.contains("pass")), all);
        assertTrue(r.out().contains("1 failed"), all);
        assertTrue(Files.readString(dir.resolve("check.json")).contains("build kernels"), "the JSON has the failure too");
    }

    @Test
    void trainOnTheBrokenDeviceNamesTheFileTheDeviceAndTheLogAndExits3(@TempDir Path dir) throws IOException {
        Path file = brokenKernels(dir);
        CliTest.Result r = withKernels(dir, "train", "--no-progress", "-e", "1", "--device", "opencl", "--out",
                dir.resolve("run").toString());
        assertEquals(Main.EXIT_UNAVAILABLE, r.code(), r.out() + r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), "no stack trace: " + r.err());
        assertTrue(r.err().contains(file.toString()), "the file: " + r.err());
        assertTrue(r.err().contains("opencl:0"), "the device: " + r.err());
        assertTrue(r.err().contains("elementwise.kernel:") && r.err().toLowerCase().contains("error"), "the log: " + r.err());
    }
}
