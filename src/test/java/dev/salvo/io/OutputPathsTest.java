package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks every command makes of its output paths before any work: one line, the option, the OS's reason. */
class OutputPathsTest {

    @TempDir
    Path dir;

    private static String fails(Runnable r) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aFileInAPlaceThatCannotHoldFilesGivesTheReason() {
        String m = fails(() -> OutputPaths.file("--save", Path.of("/proc/x")));
        assertTrue(m.startsWith("--save /proc/x: cannot write there: no such file or directory"), m);
        m = fails(() -> OutputPaths.directory("--checkpoint-dir", Path.of("/proc/salvo-ckpt")));
        assertTrue(m.startsWith("--checkpoint-dir /proc/salvo-ckpt: cannot write there:"), m);
        // sysfs refuses new files even to root
        m = fails(() -> OutputPaths.file("--save", Path.of("/sys/salvo.safetensors")));
        assertTrue(m.contains("permission denied") || m.contains("operation not permitted"), m);
    }

    @Test
    void aDirectoryWhereAFileIsExpectedAndTheOtherWayRound() throws Exception {
        String m = fails(() -> OutputPaths.file("--save", dir));
        assertTrue(m.contains("a directory, not a regular file"), m);
        Path file = Files.writeString(dir.resolve("f"), "x");
        m = fails(() -> OutputPaths.directory("--out", file));
        assertTrue(m.contains("a regular file, not a directory"), m);
        m = fails(() -> OutputPaths.file("--save", file.resolve("model.safetensors")));
        assertTrue(m.contains("not a directory"), m);
        m = fails(() -> OutputPaths.file("--save", Path.of("/dev/null")));
        assertTrue(m.contains("a character device, not a regular file"), m);
        assertTrue(Files.exists(Path.of("/dev/null")) && !Files.isRegularFile(Path.of("/dev/null")));
    }

    @Test
    void missingParentsAreMadeAndNothingIsLeftBehind() throws Exception {
        Path target = dir.resolve("a/b/model.safetensors");
        assertEquals(target, OutputPaths.file("--save", target));
        assertTrue(Files.isDirectory(dir.resolve("a/b")));
        try (var s = Files.list(dir.resolve("a/b"))) {
            assertEquals(0, s.count(), "the probe file is deleted");
        }
        assertFalse(Files.exists(target));
    }

    @Test
    void aReadOnlyFileSystemIsNamed() throws Exception {
        Path mnt = Files.createDirectory(dir.resolve("ro"));
        try {
            AtomicFileTargetsTest.exec("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", mnt.toString());
        } catch (java.io.IOException e) {
            Assumptions.abort("cannot mount a read-only file system here (needs root): " + e.getMessage());
        }
        try {
            String m = fails(() -> OutputPaths.directory("--checkpoint-dir", mnt.resolve("ckpt")));
            assertTrue(m.contains("read-only file system"), m);
            m = fails(() -> OutputPaths.file("--save", mnt.resolve("m.safetensors")));
            assertTrue(m.contains("read-only file system"), m);
        } finally {
            AtomicFileTargetsTest.exec("umount", mnt.toString());
        }
    }
}
