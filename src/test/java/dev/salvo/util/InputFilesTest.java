package dev.salvo.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one-line reasons of {@link InputFiles}, including those root cannot provoke with chmod. */
class InputFilesTest {

    @Test
    void theReasonsOfTheFileSystemsExceptions(@TempDir Path dir) {
        Path f = dir.resolve("x.csv");
        // an AccessDeniedException as the file system throws it for a mode-000 file (root is never denied)
        assertEquals("cannot read " + f + ": permission denied", InputFiles.reason(f, new AccessDeniedException(f.toString())));
        assertEquals("no such file " + f, InputFiles.reason(f, new NoSuchFileException(f.toString())));
        assertEquals(f + " is a directory, expected a file",
                InputFiles.reason(f, new FileSystemException(f.toString(), null, "Is a directory")));
        assertEquals("cannot read " + f + ": Input/output error",
                InputFiles.reason(f, new FileSystemException(f.toString(), null, "Input/output error")));
        assertEquals("cannot read " + f + ": disk on fire", InputFiles.reason(f, new IOException("disk on fire")));
    }

    @Test
    void openNamesTheOptionThePathAndWhatWasExpected(@TempDir Path dir) throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InputFiles.open("--model", dir));
        assertEquals("--model: " + dir + " is a directory, expected a file", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InputFiles.open("--input", dir.resolve("nope")));
        assertEquals("--input: no such file " + dir.resolve("nope"), e.getMessage());
        if (Files.exists(Path.of("/dev/null"))) {
            e = assertThrows(IllegalArgumentException.class, () -> InputFiles.requireFile("--data", Path.of("/dev/null")));
            assertTrue(e.getMessage().startsWith("--data: /dev/null is not a regular file"), e.getMessage());
        }
        Path ok = Files.writeString(dir.resolve("ok.txt"), "hello");
        try (InputStream in = InputFiles.open("--data", ok)) {
            assertEquals("hello", new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
        e = assertThrows(IllegalArgumentException.class, () -> InputFiles.requireDirectory("--data-dir", ok));
        assertEquals("--data-dir: " + ok + " is not a directory", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> InputFiles.requireDirectory("--data-dir", dir.resolve("nope")));
        assertEquals("--data-dir: no such directory " + dir.resolve("nope"), e.getMessage());
    }

    @Test
    void textThatIsNotUtf8IsNamedWithItsByte(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("t.kernel");
        Files.write(f, new byte[] {'a', 'b', '\n', 'c', (byte) 0xff, 'd'});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> InputFiles.readText("SALVO_KERNELS", f));
        assertEquals("SALVO_KERNELS: " + f + " is not UTF-8 text (byte 4 is 0xff); expected a text file", e.getMessage());
        Files.writeString(f, "kernel void k() {}\n// é\n", StandardCharsets.UTF_8);
        assertEquals("kernel void k() {}\n// é\n", InputFiles.readText("SALVO_KERNELS", f));
    }
}
