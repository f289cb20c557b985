package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The progress bar goes to a terminal only; the epoch lines always go to standard output. */
class ProgressBarTest {

    private final String saved = System.getProperty("salvo.stderr.tty");

    @AfterEach
    void restore() {
        if (saved == null) {
            System.clearProperty("salvo.stderr.tty");
        } else {
            System.setProperty("salvo.stderr.tty", saved);
        }
    }

    private static CliTest.Result train(Path dir) {
        return CliTest.run("train", "--epochs", "2", "--device", "cpu", "--out", dir.resolve("run").toString());
    }

    @Test
    void noBarInALogFile(@TempDir Path dir) {
        System.setProperty("salvo.stderr.tty", "false"); // what ./salvo passes when stderr is a file or a pipe
        CliTest.Result r = train(dir);
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("\r"), "carriage-return redraws in a log: " + r.err());
        assertFalse(r.err().contains("ETA"), r.err());
        assertTrue(r.out().contains("epoch   1/2") && r.out().contains("epoch   2/2"), "epoch lines still on stdout: " + r.out());
    }

    @Test
    void theBarIsDrawnOnATerminal(@TempDir Path dir) {
        System.setProperty("salvo.stderr.tty", "true");
        CliTest.Result r = train(dir);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("ETA") && r.err().contains("\r"), "progress bar: " + r.err());
        assertTrue(r.out().contains("epoch   2/2"), r.out());
    }

    @Test
    void noProgressTurnsTheBarOffEvenOnATerminal(@TempDir Path dir) {
        System.setProperty("salvo.stderr.tty", "true");
        CliTest.Result r = CliTest.run("train", "--epochs", "1", "--device", "cpu", "--no-progress", "--out", dir.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("ETA"), r.err());
    }

    @Test
    void withoutTheLauncherItAsksTheJvm() {
        System.clearProperty("salvo.stderr.tty");
        // surefire's JVM has no console: its stderr goes to a pipe
        assertFalse(ProgressBar.stderrIsTerminal());
        System.setProperty("salvo.stderr.tty", "true");
        assertTrue(ProgressBar.stderrIsTerminal());
    }
}
