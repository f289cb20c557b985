package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The GPU bundle's jlinked runtime ({@code tests-gpu/build-bundle.sh}) holds every JDK module that
 * Salvo's classes and its tests use, as {@code jdeps} finds them: a module left out fails only on
 * the node (AllocationFreeStepTest died with NoClassDefFoundError: com/sun/management/ThreadMXBean
 * when jdk.management was missing). Modules left out on purpose are listed with the reason.
 */
class BundleRuntimeTest {

    /** Modules the bundle leaves out on purpose. */
    private static final Map<String, String> LEFT_OUT = Map.of(
            "java.desktop", "plots (curves.png, bench.png) are optional: RunFolder.plottingAvailable() skips them");

    @Test
    void theJlinkedRuntimeHoldsEveryModuleTheClassesUse() throws Exception {
        Path script = Path.of("tests-gpu", "build-bundle.sh");
        Assumptions.assumeTrue(Files.isRegularFile(script), "run from a checkout: no " + script.toAbsolutePath());
        Path jdeps = Path.of(System.getProperty("java.home"), "bin", "jdeps");
        Assumptions.assumeTrue(Files.isExecutable(jdeps), "no jdeps in " + System.getProperty("java.home"));
        Matcher m = Pattern.compile("--add-modules ([a-z.,]+)").matcher(Files.readString(script, StandardCharsets.UTF_8));
        assertTrue(m.find(), "no jlink --add-modules line in " + script);
        TreeSet<String> bundled = new TreeSet<>(Arrays.asList(m.group(1).split(",")));

        List<String> cmd = new ArrayList<>(List.of(jdeps.toString(), "--print-module-deps", "--ignore-missing-deps",
                "--multi-release", "17", "-q", "--add-modules", "jdk.incubator.vector"));
        for (Class<?> c : new Class<?>[] {dev.salvo.cli.Main.class, BundleRuntimeTest.class}) {
            cmd.add(Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), out);
        assertEquals(0, p.exitValue(), out);
        String last = out.lines().reduce((a, b) -> b).orElse("");
        TreeSet<String> missing = new TreeSet<>();
        for (String module : last.split(",")) {
            if (!module.isBlank() && !bundled.contains(module.strip()) && !LEFT_OUT.containsKey(module.strip())) {
                missing.add(module.strip());
            }
        }
        assertTrue(missing.isEmpty(), "build-bundle.sh's jlink leaves out " + missing + ", which the classes use (jdeps: "
                + last + "; bundled: " + bundled + ")");
    }
}
