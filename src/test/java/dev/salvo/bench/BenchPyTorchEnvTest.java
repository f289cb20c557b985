package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.salvo.FakePython;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The PyTorch reference runs on its BLAS's own kernel choice: {@code OPENBLAS_CORETYPE} and
 * {@code OPENBLAS_L2_SIZE} (which force a core type and cache blocking; this machine's environment
 * sets Haswell, half of what OpenBLAS picks by itself here) are removed from the reference
 * process's environment, even when the parent JVM has them, and nothing else is.
 */
class BenchPyTorchEnvTest {

    @Test
    void referenceEnvironmentDropsTheBlasOverridesOnly() {
        Map<String, String> parent = Map.of("OPENBLAS_CORETYPE", "Haswell", "OPENBLAS_L2_SIZE", "512",
                "OPENBLAS_NUM_THREADS", "2", "PATH", "/usr/bin", "OMP_WAIT_POLICY", "ACTIVE");
        Map<String, String> env = PyTorchReference.referenceEnvironment(parent);
        assertFalse(env.containsKey("OPENBLAS_CORETYPE"), env::toString);
        assertFalse(env.containsKey("OPENBLAS_L2_SIZE"), env::toString);
        assertEquals("2", env.get("OPENBLAS_NUM_THREADS"));
        assertEquals("/usr/bin", env.get("PATH"));
        assertEquals("ACTIVE", env.get("OMP_WAIT_POLICY"), "a wait policy the user set is kept");
        assertEquals("PASSIVE", PyTorchReference.referenceEnvironment(Map.of()).get("OMP_WAIT_POLICY"));
        assertEquals(Map.of("OPENBLAS_CORETYPE", "Haswell", "OPENBLAS_L2_SIZE", "512"), PyTorchReference.removedFrom(parent));
        assertEquals(5, parent.size(), "the parent's map is not touched");
    }

    /** The child: runs the reference with the fake interpreter and prints what it saw. */
    public static final class Child {
        public static void main(String[] args) throws Exception {
            PyTorchReference.Result r = PyTorchReference.run(args[0], Path.of(args[1], "pytorch_bench.py"), List.of(), l -> { });
            System.out.println("SEEN " + new ObjectMapper().writeValueAsString(r.info().get("env_seen")));
        }
    }

    @Test
    void theReferenceProcessLacksBothEvenWhenTheParentHasThem(@TempDir Path tmp) throws Exception {
        Path fake = FakePython.write(tmp, List.of("fashion-mlp"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = dev.salvo.Check.childClassPath(Child.class, PyTorchReference.class, ObjectMapper.class,
                com.fasterxml.jackson.core.JsonFactory.class, com.fasterxml.jackson.annotation.JsonProperty.class);
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx128m", "-cp", cp, Child.class.getName(), fake.toString(),
                tmp.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OPENBLAS_CORETYPE", "Haswell");
        pb.environment().put("OPENBLAS_L2_SIZE", "512");
        pb.environment().put("SALVO_FAKE_MARK", "passed-on");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        String line = out.lines().filter(l -> l.startsWith("SEEN ")).findFirst().orElseThrow(() -> new AssertionError(out));
        JsonNode seen = new ObjectMapper().readTree(line.substring(5));
        assertEquals("passed-on", seen.path("SALVO_FAKE_MARK").asText(), "the parent's environment reaches the reference: " + seen);
        assertEquals(FakePython.UNSET, seen.path("OPENBLAS_CORETYPE").asText(), seen::toString);
        assertEquals(FakePython.UNSET, seen.path("OPENBLAS_L2_SIZE").asText(), seen::toString);
    }
}
