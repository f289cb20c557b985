package dev.salvo;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

/**
 * A stand-in for the reference's Python interpreter, so tests can run {@code salvo bench}'s
 * reference path without torch: a shell script that answers {@code -c ...} (the import check) with
 * success and otherwise prints one JSON object in the layout of {@code pytorch_bench.py}, holding in
 * {@code env_seen} what it found in its own environment for each of {@link #WATCHED} (the value, or
 * {@code <unset>}).
 */
public final class FakePython {

    /** The variables the fake reports: the two BLAS overrides, HOME (always passed on) and a marker a test may set. */
    public static final List<String> WATCHED = List.of("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "HOME", "SALVO_FAKE_MARK");

    public static final String UNSET = "<unset>";

    private FakePython() {
    }

    /** Writes the fake to {@code dir/fake-python} (executable); its training rows name {@code models} (784-...-10). */
    public static Path write(Path dir, List<String> models) throws IOException {
        StringBuilder env = new StringBuilder();
        for (String v : WATCHED) {
            env.append(env.length() == 0 ? "" : ",").append("\\\"").append(v).append("\\\":\\\"${").append(v).append("-")
                    .append(UNSET).append("}\\\"");
        }
        StringBuilder training = new StringBuilder();
        for (String m : models) {
            String layers = m.equals("mlp-2048") ? "784,2048,2048,10" : "784,512,256,10";
            training.append(training.length() == 0 ? "" : ",")
                    .append("{\\\"model\\\":\\\"").append(m).append("\\\",\\\"layers\\\":[").append(layers)
                    .append("],\\\"batch_size\\\":128,\\\"rows_per_epoch\\\":4096,\\\"steps_per_epoch\\\":32,")
                    .append("\\\"steps_timed\\\":6,\\\"warmup_steps\\\":3,\\\"extrapolated\\\":true,")
                    .append("\\\"seconds_per_epoch\\\":{\\\"values\\\":[2.0]},\\\"samples_per_second\\\":{\\\"values\\\":[2048.0]},")
                    .append("\\\"mean_loss\\\":2.0}");
        }
        String json = "{\\\"reference\\\":\\\"pytorch\\\",\\\"torch_version\\\":\\\"0.0-fake\\\",\\\"threads\\\":1,"
                + "\\\"env_seen\\\":{" + env + "},"
                + "\\\"blas\\\":\\\"OpenBLAS 0.0-fake (core FakeCore)\\\","
                + "\\\"blas_kernel\\\":{\\\"library\\\":\\\"OpenBLAS\\\",\\\"optimized\\\":true,\\\"core\\\":\\\"FakeCore\\\","
                + "\\\"config\\\":\\\"OpenBLAS 0.0-fake DYNAMIC_ARCH FakeCore\\\"},"
                + "\\\"training\\\":[" + training + "],"
                + "\\\"matmul\\\":[{\\\"n\\\":32,\\\"calls_per_sample\\\":1,\\\"gflops\\\":{\\\"values\\\":[1.5]}}]}";
        String script = "#!/bin/sh\n"
                + "# fake python for Salvo's tests: see dev.salvo.FakePython\n"
                + "if [ \"$1\" = \"-c\" ]; then exit 0; fi\n"
                + "echo \"pytorch_bench: fake reference, arguments: $*\" >&2\n"
                + "printf '%s\\n' \"" + json + "\"\n";
        Path f = dir.resolve("fake-python");
        Files.writeString(f, script, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        return f;
    }
}
