package dev.salvo.cli;

import dev.salvo.device.DeviceContract;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.Tolerance;
import dev.salvo.device.ReferenceOps;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.KernelSource;
import dev.salvo.kernel.TuningTable;
import dev.salvo.device.ops.MatmulOps;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code salvo tune} on OpenCL (PoCL here): bad options, a malformed table, and one quick search
 * of the matmul dot-path blocks with two deliberately broken candidates (one computes wrong
 * results, one does not compile) injected through a kernel override directory: both are rejected
 * with the reason, the table written keeps the other rows, and a device opened with it uses it.
 */
class TuneCommandTest {

    static void requireOpenCl() {
        DeviceContract.availableOrSkip("opencl");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "tune --device cpu --out x.csv|--device",
        "tune --device tpu --out x.csv|device",
        "tune --samples 0 --out x.csv|--samples",
        "tune --quik|--quik"})
    void badOptionsAreOneLineWithExitCode2(String args, String names) {
        CliTest.Result r = CliTest.run(args.split(" "));
        assertEquals(2, r.code(), r::err);
        assertEquals(1, r.err().strip().lines().count(), r::err);
        assertTrue(r.err().contains(names), r::err);
    }

    @Test
    void withoutOutOrANativeConfigDirectoryItSaysWhatToGive() {
        Assumptions.assumeTrue(System.getenv("SALVO_NATIVE_CONFIG") == null, "SALVO_NATIVE_CONFIG is set");
        CliTest.Result r = CliTest.run("tune", "--quick");
        assertEquals(2, r.code(), r::err);
        assertTrue(r.err().contains("--out") && r.err().contains("SALVO_NATIVE_CONFIG"), r::err);
    }

    @Test
    void aMalformedTableIsNamedWithItsLineBeforeAnyWork(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("opencl-tuning.csv");
        Files.writeString(f, TuningTable.header() + "\n*,1,16,4,4,16,4,32,4,4,256,64,100,1,1\n");
        CliTest.Result r = CliTest.run("tune", "--out", f.toString());
        assertEquals(2, r.code(), r::err);
        assertTrue(r.err().contains(f + " line 2") && r.err().contains("sum.wg must be a power of two"), r::err);
        assertEquals(1, r.err().strip().lines().count(), r::err);
    }

    @Test
    void quickTuneRejectsBrokenCandidatesWritesATableAndTheDeviceUsesIt(@TempDir Path dir) throws IOException {
        requireOpenCl();
        Path kernels = Files.createDirectories(dir.resolve("kernels"));
        String src = KernelSource.read("matmul.kernel");
        String broken = src.replace("#define MM_NV (MM_WPTN / MM_VW)", """
                #define MM_NV (MM_WPTN / MM_VW)
                #if MM_DOTM == 8
                #define SALVO_TEST_SKEW 0.5f
                #else
                #define SALVO_TEST_SKEW 0.0f
                #endif
                #if MM_DOTM == 2
                #error deliberately broken candidate
                #endif""").replace("float s = VSUMF(MM_VW, acc[i][j]);", "float s = VSUMF(MM_VW, acc[i][j]) + SALVO_TEST_SKEW;");
        assertTrue(broken.contains("SALVO_TEST_SKEW;") && broken.contains("#error"), "the injection found its places");
        Files.writeString(kernels.resolve("matmul.kernel"), broken, StandardCharsets.UTF_8);
        Path config = Files.createDirectories(dir.resolve("config"));
        Path table = config.resolve("opencl-tuning.csv");
        Files.writeString(table, "# kept\n" + TuningTable.header() + "\nSomeGPU*,1,8,4,4,16,4,32,4,4,128,32,128,1,1\n"
                + "*,0,16,4,4,16,4,32,4,4,256,64,256,16,16\n");
        CliTest.Result r;
        System.setProperty("salvo.kernels", kernels.toString());
        System.setProperty("salvo.cacheDir", dir.resolve("cache").toString());
        try {
            r = CliTest.run("tune", "--quick", "--only", "matmul.dot", "--samples", "1", "--out", table.toString());
        } finally {
            System.clearProperty("salvo.kernels");
        }
        assertEquals(0, r.code(), () -> r.out() + r.err());
        String out = r.out();
        assertTrue(out.lines().anyMatch(l -> l.contains("dotm=8 dotn=2") && l.contains("rejected: matmul")),
                () -> "the wrong candidate fails validation:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.contains("dotm=2 dotn=8") && l.contains("rejected:")),
                () -> "the candidate that does not compile is rejected:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.contains("dotm=4 dotn=4 (current)") && l.contains("<- chosen")),
                () -> "only the valid current values remain:\n" + out);

        List<String> written = Files.readAllLines(table);
        assertEquals("# kept", written.get(0));
        List<TuningTable.Row> rows = TuningTable.parse(table.toString(), written);
        assertEquals(3, rows.size(), written::toString);
        assertEquals("SomeGPU*", rows.get(0).glob(), "other rows kept in place");
        assertEquals(8, rows.get(0).tuning().tile());
        assertEquals("*", rows.get(2).glob(), "the default row stays last");
        TuningTable.Row mine = rows.get(1);
        assertEquals(0, mine.tuning().mmLocal());
        assertEquals(4, mine.tuning().mmDotm());

        System.setProperty("salvo.nativeConfig", config.toString());
        try (Device d = Devices.open("opencl:0").device()) {
            assertEquals(mine.tuning().row(), ((KernelDevice) d).tuningInUse().row(), "the device uses the tuned row");
            assertTrue(d.info().name().replace(',', '?').equals(mine.glob()), d.info().name());
            Gemm g = new Gemm(45, 37, 300, false, true);
            SplittableRandom rnd = new SplittableRandom(3);
            double[] a = new double[(int) g.aLength()];
            double[] b = new double[(int) g.bLength()];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) (rnd.nextDouble() * 2 - 1);
            }
            try (DeviceBuffer ab = d.allocFloat(a.length); DeviceBuffer bb = d.allocFloat(b.length);
                 DeviceBuffer z = d.allocFloat(g.cLength())) {
                d.upload(a, ab);
                d.upload(b, bb);
                float[] nan = new float[(int) g.cLength()];
                Arrays.fill(nan, Float.NaN);
                d.upload(nan, z);
                d.run(MatmulOps.matmul(g, ab, bb, null, Activation.IDENTITY, z, null));
                float[] got = new float[nan.length];
                d.download(z, got);
                Tolerance.Worst w = Tolerance.gemm(g, a, b, null, ReferenceOps.matmul(g, a, b, null), got);
                assertTrue(w.pass(), w::describe);
            }
        } finally {
            System.clearProperty("salvo.nativeConfig");
            System.clearProperty("salvo.cacheDir");
        }
    }
}
