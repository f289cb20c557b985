package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.salvo.FakePython;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tests-gpu/compare.sh} launches the GPU PyTorch reference without the variables that
 * override OpenBLAS's kernel choice, while the caller has them: a fake Python reports its
 * environment (into the script's torch.json) and a fake {@code java} stands in for Salvo's side.
 */
class CompareScriptEnvTest {

    @Test
    void theGpuReferenceRunsWithoutTheBlasOverrides(@TempDir Path tmp) throws Exception {
        Path script = Path.of("tests-gpu", "compare.sh").toAbsolutePath();
        Assumptions.assumeTrue(Files.isRegularFile(script), "run from a checkout: no " + script);
        Path fake = FakePython.write(tmp, List.of());
        Path bin = Files.createDirectories(tmp.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/sh\necho fake java \"$@\"\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path results = tmp.resolve("results");
        ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), results.toString()).redirectErrorStream(true);
        pb.environment().put("PYTHON", fake.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        pb.environment().put("OPENBLAS_CORETYPE", "Haswell");
        pb.environment().put("OPENBLAS_L2_SIZE", "512");
        pb.environment().put("SALVO_FAKE_MARK", "passed-on");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertTrue(out.contains("fake java"), () -> "Salvo's side ran: " + out);
        JsonNode seen = new ObjectMapper().readTree(results.resolve("torch.json").toFile()).path("env_seen");
        assertEquals("passed-on", seen.path("SALVO_FAKE_MARK").asText(), () -> seen + "\n" + out);
        assertEquals(FakePython.UNSET, seen.path("OPENBLAS_CORETYPE").asText(), seen::toString);
        assertEquals(FakePython.UNSET, seen.path("OPENBLAS_L2_SIZE").asText(), seen::toString);
    }
}
