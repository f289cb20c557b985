package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.bench.AllReduceBench;
import dev.salvo.device.DeviceContract;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code salvo bench --allreduce}: the shipped C program compiles with mpicc and gives a sane JSON
 * line under {@code mpirun -np 2} (skipped without Open MPI, unless SALVO_REQUIRE lists mpi), and
 * a missing mpirun or mpicc is bad input (rc 2, one line naming the package).
 */
class BenchAllReduceTest {

    /** mpirun and mpicc, or the test is skipped (failed when SALVO_REQUIRE lists mpi). */
    static Path[] openMpi() {
        try {
            return new Path[] {BenchAllReduce.find("mpirun", "openmpi-bin"), BenchAllReduce.find("mpicc", "libopenmpi-dev")};
        } catch (IllegalArgumentException e) {
            if (DeviceContract.required("mpi")) {
                throw new AssertionError("SALVO_REQUIRE lists mpi but " + e.getMessage());
            }
            Assumptions.abort(e.getMessage());
            return null;
        }
    }

    @Test
    void theCProgramCompilesAndAllReducesUnderMpirun(@TempDir Path tmp) throws IOException {
        Path[] mpi = openMpi();
        Path src = tmp.resolve("allreduce_bench.c");
        Files.writeString(src, AllReduceBench.cSource());
        Path bin = tmp.resolve("allreduce_bench");
        BenchAllReduce.exec(List.of(mpi[1].toString(), "-O2", "-Wall", "-Werror", "-o", bin.toString(), src.toString()), null, "mpicc");
        List<String> cmd = new ArrayList<>(BenchAllReduce.mpirun(mpi[0], 2));
        cmd.addAll(List.of(bin.toString(), "4", "1000", "17"));
        AllReduceBench.Side s = AllReduceBench.Side.parse("c", BenchAllReduce.exec(cmd, null, "mpirun"));
        assertEquals("allreduce_bench.c", s.program());
        assertTrue(s.mpi().startsWith("Open MPI"), s.mpi());
        assertEquals(2, s.ranks());
        assertEquals(4, s.iterations());
        assertEquals("ok", s.check(), "1 + 2 summed over the two ranks");
        assertArrayEquals(new int[] {1000, 17}, s.bucketFloats());
        assertEquals(4 * 1017, s.bytes());
        assertTrue(s.min() > 0 && s.min() <= s.p10() && s.p10() <= s.median() && s.median() <= s.p90() && s.p90() <= s.max()
                && s.max() < 10, s.toString());
        assertEquals(2, s.bucketMedians().length);
        // bad arguments: a non-zero exit, not a result
        List<String> bad = new ArrayList<>(BenchAllReduce.mpirun(mpi[0], 2));
        bad.addAll(List.of(bin.toString(), "4", "0"));
        assertThrows(IllegalStateException.class, () -> BenchAllReduce.exec(bad, null, "mpirun"));
    }

    @Test
    void withoutAJdk22ItTimesTheCSideAndSaysWhySalvosDidNotRun(@TempDir Path tmp) throws IOException {
        openMpi();
        Assumptions.assumeTrue(Runtime.version().feature() < 22, "this JDK runs Salvo's side itself");
        Path saved = BenchAllReduce.jdk22;
        try {
            BenchAllReduce.jdk22 = tmp.resolve("no-jdk");
            Path out = tmp.resolve("o");
            BenchCommandTest.Result r = BenchCommandTest.run("bench", "--allreduce", "--quick", "--iterations", "3", "--out",
                    out.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("| fashion-mlp 784-512-256-10 | 1 | 2,143,296 | "), r.out());
            assertTrue(r.out().contains("| mlp-2048 784-2048-2048-10 | 6 | 23,298,112 | "), r.out());
            assertTrue(r.out().contains("| n/a | n/a |"), r.out());
            assertTrue(r.out().contains("Salvo's side needs JDK 22 or newer"), r.out());
            com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper()
                    .readTree(out.resolve(BenchAllReduce.JSON).toFile());
            assertEquals(2, j.path("networks").size());
            assertEquals("ok", j.path("networks").get(1).path("c_mpi_allreduce").path("check").asText());
            assertEquals(3, j.path("networks").get(1).path("c_mpi_allreduce").path("iterations").asInt());
            assertTrue(j.path("networks").get(1).path("salvo").isNull());
        } finally {
            BenchAllReduce.jdk22 = saved;
        }
    }

    @Test
    void withoutMpirunOrMpiccItIsBadInputNamingThePackage(@TempDir Path tmp) throws IOException {
        String saved = BenchAllReduce.searchPath;
        try {
            BenchAllReduce.searchPath = tmp.toString();
            BenchCommandTest.Result r = BenchCommandTest.run("bench", "--allreduce", "--quick", "--out", tmp.resolve("o").toString());
            assertEquals(2, r.code(), r.err());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("mpirun") && r.err().contains("apt-get install openmpi-bin"), r.err());
            Path fake = Files.createFile(tmp.resolve("mpirun"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            assertTrue(Files.isExecutable(fake));
            r = BenchCommandTest.run("bench", "--allreduce", "--quick", "--out", tmp.resolve("o").toString());
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("mpicc") && r.err().contains("libopenmpi-dev"), r.err());
        } finally {
            BenchAllReduce.searchPath = saved;
        }
    }

    @Test
    void theTrainingRunsAreThreeEpochsOfTheRecipeOnTheCpu() {
        List<String> a = BenchAllReduce.trainArgs(dev.salvo.bench.BenchModel.MLP_2048, 128, Path.of("f"), null);
        assertEquals(List.of("train", "--data", "fashion-mnist", "--layers", "784,2048,2048,10", "--optimizer", "adamw", "--lr",
                "0.001", "--batch-size", "128", "--epochs", "3", "--device", "cpu", "--no-progress", "--out", "f", "--overwrite"), a);
        assertEquals(List.of("--bucket-mb", "1"), BenchAllReduce.trainArgs(dev.salvo.bench.BenchModel.FASHION_MLP, 64, Path.of("f"), "1")
                .subList(a.size(), a.size() + 2));
    }

    @Test
    void itsOptionsBelongToAllreduceAndAreChecked() {
        BenchCommandTest.Result r = BenchCommandTest.run("bench", "--train");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--train applies to --allreduce only"), r.err());
        r = BenchCommandTest.run("bench", "--allreduce", "--bucket-mb", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--bucket-mb"), r.err());
        r = BenchCommandTest.run("bench", "--allreduce", "--iterations", "0");
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("--iterations"), r.err());
    }
}
