package dev.salvo.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.DeviceContract;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.dist.Nccl;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * NCCL with one rank on {@code cuda:0}: an in-place all-reduce of a device buffer leaves it
 * unchanged. Calling NCCL needs the JDK 22+ classes, so {@link NcclSmokeMain} runs in a JDK 22+
 * ({@code SALVO_JDK22}, else this JVM if it is one, else {@code /usr/lib/jvm/temurin-25-jdk-amd64})
 * with this class path ({@code META-INF/versions/22} of {@code target/classes} first when it
 * exists; the bundle's {@code salvo-all.jar} is a multi-release jar). Skipped with the reason when
 * {@code libnccl.so.2} is not found (where it was looked for is in the reason), when there is no
 * JDK 22+, or when there is no CUDA device (a failure when {@code SALVO_REQUIRE} lists cuda).
 */
class NcclSmokeTest {

    private static Path jdk22() {
        String env = System.getenv("SALVO_JDK22");
        if (env != null && !env.isBlank()) {
            return Path.of(env, "bin", "java");
        }
        if (Runtime.version().feature() >= 22) {
            return Path.of(System.getProperty("java.home"), "bin", "java");
        }
        return Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/java");
    }

    @Test
    void oneRankAllReduceLeavesTheBufferUnchanged() throws Exception {
        Path lib = Nccl.find();
        System.out.println("libnccl.so.2: " + (lib == null ? "not found" : "found at " + lib));
        Assumptions.assumeTrue(lib != null, "libnccl.so.2 not found: install it (apt-get install libnccl2, or pip install "
                + "nvidia-nccl-cu12) or name it with NCCL_LIBRARY=/path/to/libnccl.so.2");
        try {
            Devices.open("cuda:0").device().close();
        } catch (DeviceException.Unavailable e) {
            if (DeviceContract.required("cuda")) {
                throw new AssertionError("SALVO_REQUIRE lists cuda but it is unavailable: " + e.getMessage());
            }
            Assumptions.abort("cuda unavailable: " + e.reason());
        }
        Path java = jdk22();
        Assumptions.assumeTrue(Files.isExecutable(java), "NCCL needs JDK 22+ (none at " + java + "; set SALVO_JDK22=/path/to/jdk)");
        String cp = System.getProperty("java.class.path");
        Path versioned = Path.of("target/classes/META-INF/versions/22").toAbsolutePath();
        if (Files.isDirectory(versioned)) {
            cp = versioned + File.pathSeparator + cp;
        }
        List<String> cmd = List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "--add-modules=jdk.incubator.vector",
                "-cp", cp, NcclSmokeMain.class.getName());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("LD_PRELOAD"); // the bundled JDK 17's libjsig is not this JDK's
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out");
        System.out.println(out);
        List<String> lines = new ArrayList<>(out.lines().toList());
        assertEquals(0, p.exitValue(), out);
        assertTrue(lines.contains("supported true"), "the JDK 22 classes were not loaded:\n" + out);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("describe NCCL ") && l.endsWith("on device memory (" + lib + ")")), out);
        assertTrue(lines.contains("onDevice true"), out);
        assertTrue(lines.stream().anyMatch(l -> l.startsWith("unchanged true")), out);
        assertTrue(lines.contains("closed"), out);
    }
}
