package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.InputTransform;
import dev.salvo.device.DeviceContract;
import dev.salvo.device.opencl.OpenClProvider;
import dev.salvo.io.ModelFile;
import dev.salvo.kernel.KernelSource;
import dev.salvo.nn.NetworkSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, point 8: every input option given a directory, a device file or a file it may not
 * read, and binary files or missing folders in {@code SALVO_KERNELS} / {@code SALVO_NATIVE_CONFIG}:
 * one line naming the option (or variable), the path and what was expected, exit 2.
 */
class BadInputFilesTest {

    @TempDir
    static Path dir;
    static Path model;
    static Path emptyDir;
    static Path idxWithADirectory;

    @BeforeAll
    static void files() throws IOException {
        model = dir.resolve("m.safetensors");
        ModelFile.save(model, NetworkSpec.input(64).dense(10).build(), new float[650], InputTransform.identity(64),
                Map.of("dataset", "digits"));
        emptyDir = Files.createDirectories(dir.resolve("empty"));
        idxWithADirectory = Files.createDirectories(dir.resolve("idx"));
        for (String f : List.of("train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            Files.write(idxWithADirectory.resolve(f), new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        Files.createDirectories(idxWithADirectory.resolve("train-images-idx3-ubyte"));
        Files.createDirectories(emptyDir.resolve("ck").resolve("checkpoint.bin"));
    }

    static void oneLine(CliTest.Result r, String... mustContain) {
        assertEquals(Main.EXIT_USAGE, r.code(), r.out() + r.err());
        String msg = r.err().strip();
        assertEquals(1, msg.lines().count(), "one line: " + msg);
        assertFalse(msg.contains("\tat ") || msg.contains("Exception"), "no stack trace or exception name: " + msg);
        for (String s : mustContain) {
            assertTrue(msg.contains(s), "says '" + s + "': " + msg);
        }
    }

    @Test
    void aDirectoryWhereAFileIsExpected() {
        String d = emptyDir.toString();
        oneLine(CliTest.run("train", "--no-progress", "--data", "csv:" + d), "--data", d, "is a directory");
        oneLine(CliTest.run("train", "--no-progress", "--resume", emptyDir.resolve("ck").toString()), "--resume",
                "checkpoint.bin", "is a directory");
        oneLine(CliTest.run("train", "--no-progress", "--data", "mnist", "--data-dir", idxWithADirectory.toString()),
                "--data-dir", "train-images-idx3-ubyte", "is a directory");
        oneLine(CliTest.run("eval", "--model", d), "--model", d, "is a directory");
        oneLine(CliTest.run("eval", "--model", model.toString(), "--data", "csv:" + d), "--data", d, "is a directory");
        oneLine(CliTest.run("predict", "--model", d, "--input", model.toString()), "--model", d, "is a directory");
        oneLine(CliTest.run("predict", "--model", model.toString(), "--input", d), "--input", d, "is a directory");
    }

    @Test
    void aDeviceFileWhereAFileIsExpected() {
        Assumptions.assumeTrue(Files.exists(Path.of("/dev/null")), "no /dev/null here");
        String n = "/dev/null";
        oneLine(CliTest.run("train", "--no-progress", "--data", "csv:" + n), "--data", n, "not a regular file");
        oneLine(CliTest.run("train", "--no-progress", "--resume", n), "--resume", n, "not a regular file");
        oneLine(CliTest.run("eval", "--model", n), "--model", n, "not a regular file");
        oneLine(CliTest.run("predict", "--model", model.toString(), "--input", n), "--input", n, "not a regular file");
    }

    @Test
    void aFileOrMissingPathWhereADirectoryIsExpected() {
        oneLine(CliTest.run("train", "--no-progress", "--data", "mnist", "--data-dir", model.toString()), "--data-dir",
                model.toString(), "not a directory");
        String missing = dir.resolve("nosuch").toString();
        oneLine(CliTest.run("train", "--no-progress", "--data", "mnist", "--data-dir", missing), "--data-dir", missing,
                "no such directory");
        oneLine(CliTest.run("eval", "--model", missing), "--model", missing, "no such file");
    }

    /** Runs with system properties set (the in-process form of SALVO_KERNELS / SALVO_NATIVE_CONFIG). */
    private static CliTest.Result withProps(Map<String, String> props, String... args) {
        props.forEach(System::setProperty);
        try {
            return CliTest.run(args);
        } finally {
            props.keySet().forEach(System::clearProperty);
        }
    }

    private static byte[] binary() {
        byte[] b = new byte[4096];
        new Random(12).nextBytes(b);
        b[0] = (byte) 0xC3; // a UTF-8 lead byte ...
        b[1] = (byte) 0x28; // ... followed by a byte that cannot continue it
        return b;
    }

    @Test
    void aMissingOverrideFolderIsAnErrorNamingTheVariableAndThePath() throws Exception {
        String missing = dir.resolve("no-such-folder").toString();
        oneLine(withProps(Map.of("salvo.kernels", missing), "train", "--no-progress", "-e", "1", "--device", "cpu",
                "--out", dir.resolve("r1").toString()), "salvo.kernels", missing, "no such directory");
        oneLine(withProps(Map.of("salvo.nativeConfig", model.toString()), "devices"), "salvo.nativeConfig", model.toString(),
                "not a directory");
        // the environment variables themselves, in a child JVM
        List<CliTest.Result> r = ChildCli.run(List.of(), List.of(), Map.of("SALVO_NATIVE_CONFIG", missing), List.of(
                List.of("train", "--no-progress", "-e", "1", "--device", "cpu", "--out", dir.resolve("r2").toString())));
        oneLine(r.get(0), "SALVO_NATIVE_CONFIG", missing, "no such directory");
        r = ChildCli.run(List.of(), List.of(), Map.of("SALVO_KERNELS", missing), List.of(List.of("devices")));
        oneLine(r.get(0), "SALVO_KERNELS", missing, "no such directory");
    }

    @Test
    void aBinaryTuningTableOrPropertiesFileIsNamedAsNotUtf8() throws IOException {
        for (String f : List.of("opencl-tuning.csv", "cpu.properties")) {
            Path nc = Files.createDirectories(dir.resolve("nc-" + f));
            Files.write(nc.resolve(f), binary());
            oneLine(withProps(Map.of("salvo.nativeConfig", nc.toString()), "train", "--no-progress", "-e", "1", "--device", "cpu",
                    "--out", dir.resolve("r-" + f).toString()), nc.resolve(f).toString(), "not UTF-8 text", "byte 0");
        }
    }

    @Test
    void aBinaryKernelFileIsNamedAsNotUtf8() throws IOException {
        DeviceContract.availableOrSkip("opencl");
        Path k = Files.createDirectories(dir.resolve("kernels-binary"));
        Files.write(k.resolve("elementwise.kernel"), binary());
        CliTest.Result r = withProps(Map.of("salvo.kernels", k.toString(), "salvo.opencl.cache", "false"), "train", "--no-progress",
                "-e", "1", "--device", "opencl", "--out", dir.resolve("r-k").toString());
        oneLine(r, "-Dsalvo.kernels: " + k.resolve("elementwise.kernel"), "not UTF-8 text");
        assertFalse(r.err().contains("--device:"), "the kernel file, not the option: " + r.err());
        assertTrue(KernelSource.overrideDir() == null, "the property was cleared");
    }

    /**
     * A file without read permission for every input option. As root, chmod 000 does not stop
     * reading (CAP_DAC_OVERRIDE), so the commands run in a child JVM that has dropped that
     * capability (and CAP_DAC_READ_SEARCH) with setpriv: still uid 0, but a mode-000 file is
     * then really unreadable. Elsewhere chmod 000 is enough, in this JVM.
     */
    @Test
    void aFileWithoutReadPermission() throws Exception {
        Path secret = Files.createDirectories(dir.resolve("secret"));
        Path csv = secret.resolve("data.csv");
        Files.writeString(csv, "1,2,0\n3,4,1\n5,6,0\n7,8,1\n");
        Path idx = Files.createDirectories(secret.resolve("idx"));
        for (String f : List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")) {
            Files.write(idx.resolve(f), new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        }
        Path ck = Files.createDirectories(secret.resolve("ck"));
        Files.write(ck.resolve("checkpoint.bin"), new byte[] {1, 2, 3});
        Path readable = dir.resolve("readable.csv");
        Files.writeString(readable, "1,2,3\n");
        Path lockedModel = secret.resolve("m.safetensors");
        Files.copy(model, lockedModel);
        Path kernels = Files.createDirectories(secret.resolve("kernels"));
        Files.writeString(kernels.resolve("elementwise.kernel"), KernelSource.read("elementwise.kernel"), StandardCharsets.UTF_8);
        List<Path> locked = List.of(csv, idx.resolve("train-images-idx3-ubyte"), ck.resolve("checkpoint.bin"), lockedModel,
                kernels.resolve("elementwise.kernel"));
        for (Path p : locked) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("---------"));
        }
        List<List<String>> commands = List.of(
                List.of("train", "--no-progress", "--data", "csv:" + csv),
                List.of("train", "--no-progress", "--data", "mnist", "--data-dir", idx.toString()),
                List.of("train", "--no-progress", "--resume", ck.toString()),
                List.of("eval", "--model", lockedModel.toString()),
                List.of("eval", "--model", model.toString(), "--data", "csv:" + csv),
                List.of("predict", "--model", lockedModel.toString(), "--input", readable.toString()),
                List.of("predict", "--model", model.toString(), "--input", csv.toString()));
        List<String> options = List.of("--data", "--data-dir", "--resume", "--model", "--data", "--model", "--input");
        List<Path> files = List.of(csv, idx.resolve("train-images-idx3-ubyte"), ck.resolve("checkpoint.bin"), lockedModel, csv,
                lockedModel, csv);
        List<CliTest.Result> results;
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            ProcessBuilder probe = new ProcessBuilder("setpriv", "--bounding-set", "-dac_override,-dac_read_search", "cat",
                    csv.toString()).redirectErrorStream(true);
            int rc;
            String said;
            try {
                Process p = probe.start();
                said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                rc = p.waitFor();
            } catch (IOException e) {
                rc = -1;
                said = e.toString();
            }
            Assumptions.assumeTrue(rc != 0 && said.contains("Permission denied"), "running as root and setpriv cannot drop "
                    + "CAP_DAC_OVERRIDE here (" + said.strip() + "); InputFilesTest still checks the mapping of "
                    + "AccessDeniedException");
            List<List<String>> all = new ArrayList<>(commands);
            all.add(List.of("train", "--no-progress", "--device", "opencl", "--out", dir.resolve("r-kern").toString()));
            results = ChildCli.run(List.of("setpriv", "--bounding-set", "-dac_override,-dac_read_search"), List.of(),
                    Map.of("SALVO_KERNELS", kernels.toString(), "SALVO_CACHE_DIR", dir.resolve("cache").toString()), all);
        } else {
            results = new ArrayList<>();
            for (List<String> c : commands) {
                results.add(CliTest.run(c.toArray(new String[0])));
            }
        }
        for (int i = 0; i < commands.size(); i++) {
            oneLine(results.get(i), options.get(i), files.get(i).toString(), "permission denied");
        }
        if (root && new OpenClProvider().probe().isAvailable()) {
            oneLine(results.get(commands.size()), "SALVO_KERNELS", kernels.resolve("elementwise.kernel").toString(),
                    "permission denied");
        }
    }
}
