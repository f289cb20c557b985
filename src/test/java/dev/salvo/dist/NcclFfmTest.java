package dev.salvo.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The JDK 22+ {@link Nccl} against a fake {@code libnccl.so.2} (C, built here with {@code cc}) that
 * prints every argument it receives: the downcall descriptors (the 128-byte {@code ncclUniqueId}
 * passed by value, {@code ncclAllReduce}'s seven arguments, ncclFloat = 7, ncclSum = 0, the device
 * pointer and stream from {@code DeviceMemory}), the order of the calls, error strings and the
 * version. Runs {@link NcclFakeMain} on the JDK 22+ that built {@code META-INF/versions/22} (the
 * versioned classes first on the class path, as a multi-release jar loads them); skipped with the
 * reason when there is no such JDK, no versioned classes or no C compiler. A real NCCL on a GPU is
 * the GPU tier's ({@code tests-gpu/}, {@code NcclSmokeTest}).
 */
class NcclFfmTest {

    static final String FAKE = """
            #include <stdio.h>
            #include <stdlib.h>
            #include <string.h>
            typedef struct { char internal[128]; } ncclUniqueId;
            static int fails(const char *call) { const char *f = getenv("FAKE_NCCL_FAIL"); return f && strcmp(f, call) == 0; }
            const char *ncclGetErrorString(int r) { return r == 5 ? "invalid usage (fake)" : "unknown (fake)"; }
            int ncclGetVersion(int *v) { *v = 22105; return 0; }
            int ncclGetUniqueId(ncclUniqueId *id) {
              if (fails("ncclGetUniqueId")) return 5;
              for (int i = 0; i < 128; i++) id->internal[i] = (char) (i * 7 + 3);
              return 0;
            }
            int ncclCommInitRank(void **comm, int nranks, ncclUniqueId id, int rank) {
              int ok = 1;
              for (int i = 0; i < 128; i++) if (id.internal[i] != (char) (i * 7 + 3)) ok = 0;
              printf("c init nranks=%d rank=%d id=%s\\n", nranks, rank, ok ? "intact" : "garbled"); fflush(stdout);
              if (fails("ncclCommInitRank")) return 5;
              *comm = (void *) 0xc0ffee;
              return 0;
            }
            int ncclAllReduce(const void *send, void *recv, size_t count, int type, int op, void *comm, void *stream) {
              printf("c allreduce send=%p recv=%p count=%zu type=%d op=%d comm=%p stream=%p\\n", send, recv, count, type, op, comm, stream);
              fflush(stdout);
              return fails("ncclAllReduce") ? 5 : 0;
            }
            int ncclCommGetAsyncError(void *comm, int *error) { *error = fails("async") ? 5 : 0; return 0; }
            int ncclCommDestroy(void *comm) { printf("c destroy comm=%p\\n", comm); fflush(stdout); return 0; }
            int ncclCommAbort(void *comm) { printf("c abort comm=%p\\n", comm); fflush(stdout); return 0; }
            """;

    @TempDir
    static Path tmp;
    static Path java;
    static Path lib;
    static String classPath;

    @BeforeAll
    static void build() throws Exception {
        java = Runtimes.TEMURIN_25.resolve("bin/java");
        Assumptions.assumeTrue(Files.isExecutable(java), "no JDK 22+ at " + Runtimes.TEMURIN_25);
        Path versioned = Path.of("target/classes/META-INF/versions/22").toAbsolutePath();
        Assumptions.assumeTrue(Files.isRegularFile(versioned.resolve("dev/salvo/dist/Nccl.class")),
                "no JDK 22 classes in " + versioned + " (the java22-fork profile did not run)");
        Path src = Files.writeString(tmp.resolve("fake_nccl.c"), FAKE);
        lib = tmp.resolve("lib").resolve(Nccl.LIBRARY);
        Files.createDirectories(lib.getParent());
        List<String> out = new ArrayList<>();
        int rc;
        try {
            rc = run(List.of("cc", "-shared", "-fPIC", "-o", lib.toString(), src.toString()), null, out);
        } catch (IOException e) {
            rc = -1;
            out.add(e.toString());
        }
        Assumptions.assumeTrue(rc == 0, "no C compiler to build the fake libnccl.so.2: " + out);
        classPath = versioned + File.pathSeparator + System.getProperty("java.class.path");
    }

    private static int run(List<String> cmd, String fail, List<String> out) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        if (fail != null) {
            pb.environment().put("FAKE_NCCL_FAIL", fail);
        }
        Process p = pb.start();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "timed out: " + cmd);
        text.lines().filter(l -> l.startsWith("java ") || l.startsWith("c ") || !jvmWarning(l)).forEach(out::add);
        return p.exitValue();
    }

    private static boolean jvmWarning(String line) {
        return line.startsWith("WARNING");
    }

    private static List<String> main(String library, String fail, String... more) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(java.toString(), "--enable-native-access=ALL-UNNAMED", "-cp", classPath,
                NcclFakeMain.class.getName(), library));
        cmd.addAll(List.of(more));
        List<String> out = new ArrayList<>();
        assertEquals(0, run(cmd, fail, out), String.join("\n", out));
        return out;
    }

    @Test
    void callsNcclWithTheRightArgumentsInOrder() throws Exception {
        List<String> out = main(lib.toString(), null);
        assertEquals(List.of(
                "java supported true",
                "java makeCurrent",
                "c init nranks=1 rank=0 id=intact",
                "java describe NCCL 2.21.5 on device memory (" + lib + ")",
                "java onDevice true false",
                "java rank 0 of 1",
                "java makeCurrent",
                "c allreduce send=0x7f0000001014 recv=0x7f0000001014 count=1000 type=7 op=0 comm=0xc0ffee stream=0x5ea",
                "java synchronize",
                "java reduced",
                "java makeCurrent",
                "c destroy comm=0xc0ffee"), out);
    }

    @Test
    void errorsNameTheCallAndNcclsText() throws Exception {
        List<String> out = main(lib.toString(), "ncclAllReduce");
        assertTrue(out.contains("java error ncclAllReduce failed on rank 0: invalid usage (fake) (5) (NCCL_DEBUG=WARN prints NCCL's own account)"),
                String.join("\n", out));
        assertTrue(out.contains("c destroy comm=0xc0ffee"), "the communicator is destroyed after a failed call: " + out);
        out = main(lib.toString(), "async");
        assertTrue(out.stream().anyMatch(l -> l.startsWith("java error ncclAllReduce (asynchronous error) failed on rank 0: invalid usage")),
                String.join("\n", out));
        out = main(lib.toString(), "ncclGetUniqueId");
        assertTrue(out.contains("java error ncclGetUniqueId failed on rank 0: invalid usage (fake) (5) (NCCL_DEBUG=WARN prints NCCL's own account)"),
                String.join("\n", out));
        out = main(lib.toString(), "ncclCommInitRank");
        assertTrue(out.stream().anyMatch(l -> l.startsWith("java error ncclCommInitRank failed on rank 0: invalid usage")), String.join("\n", out));
    }

    @Test
    void refusesWhatItCannotUse() throws Exception {
        List<String> out = main(lib.toString(), null, "not-cuda");
        assertTrue(out.stream().anyMatch(l -> l.startsWith("java error NCCL reduces CUDA device memory;") && l.endsWith("is not a CUDA device")),
                String.join("\n", out));
        Path missing = tmp.resolve("nowhere").resolve(Nccl.LIBRARY);
        out = main(missing.toString(), null);
        assertTrue(out.stream().anyMatch(l -> l.startsWith("java error " + missing + " did not load: ")), String.join("\n", out));
    }
}
