package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code salvo} launcher's first-use build, run for real: the launcher is copied beside a pom
 * with nothing to build, so it runs its own Maven command in a second or two, then fails to find
 * the jar (expected). Its output, like a CI log, must hold no ANSI escape codes (Maven's console
 * library writes colour resets on exit even in batch mode and into pipes).
 */
class LauncherTest {

    @org.junit.jupiter.api.BeforeEach
    void needTheCheckout() {
        Check.inCheckout("salvo", "pom.xml");
    }

    @Test
    void theFirstBuildWritesNoColourCodes(@TempDir Path dir) throws IOException, InterruptedException {
        Assumptions.assumeTrue(onPath("mvn"), "mvn is not on the PATH");
        Path launcher = dir.resolve("salvo");
        Files.copy(Path.of("salvo"), launcher);
        assertTrue(launcher.toFile().setExecutable(true));
        Files.writeString(dir.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>test</groupId><artifactId>launcher-build</artifactId><version>1</version>
                  <packaging>pom</packaging>
                </project>
                """);
        Path log = dir.resolve("log.txt");
        Process p = new ProcessBuilder("bash", launcher.toString(), "--version").directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the launcher's build did not finish in 120 s");
        String out = Files.readString(log, StandardCharsets.ISO_8859_1);
        assertTrue(out.contains("salvo: building"), "the launcher did not build: " + out);
        assertFalse(out.contains("\u001b"), "ANSI escape codes in the build output: " + out.replace("\u001b", "ESC"));
    }

    private static boolean onPath(String exe) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(d, exe))) {
                return true;
            }
        }
        return false;
    }
}
