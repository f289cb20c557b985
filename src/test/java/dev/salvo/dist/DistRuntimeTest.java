package dev.salvo.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.cpu.CpuProvider;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The JDK 17 builds of {@link Mpi} and {@link Nccl} (what {@code mvn test} loads from
 * {@code target/classes}): not supported, and every entry point says distributed training needs
 * JDK 22 and how to select one.
 */
class DistRuntimeTest {

    private static void assumeJdk17Classes() {
        Assumptions.assumeTrue(Runtime.version().feature() < 22, "runs on JDK 17-21, where the base classes are the ones loaded");
    }

    private static void saysJdk22(String m) {
        assertTrue(m.startsWith("distributed training needs JDK 22 or newer"), m);
        assertTrue(m.contains("this is JDK " + Runtime.version().feature()), m);
        assertTrue(m.contains("JAVA_HOME="), m);
    }

    @Test
    void mpiStubSaysItNeedsJdk22() {
        assumeJdk17Classes();
        assertFalse(Mpi.supported());
        saysJdk22(Mpi.unsupportedReason());
        saysJdk22(assertThrows(DistributedException.class, () -> Mpi.open(null)).getMessage());
    }

    @Test
    void ncclStubSaysItNeedsJdk22() {
        assumeJdk17Classes();
        assertFalse(Nccl.supported());
        saysJdk22(Nccl.unsupportedReason());
        assertEquals(Mpi.unsupportedReason(), Nccl.unsupportedReason(), "one message for both");
        try (var cpu = new CpuProvider().open(0)) {
            saysJdk22(assertThrows(DistributedException.class, () -> Nccl.open(SingleProcess.INSTANCE, cpu, null)).getMessage());
        }
    }
}
