package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFileTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void createsAndReplaces() throws IOException {
        Path f = dir.resolve("model.bin");
        AtomicFile.write(f, "first".getBytes(StandardCharsets.UTF_8));
        assertEquals("first", Files.readString(f));
        AtomicFile.write(f, out -> {
            out.write("second, ".getBytes(StandardCharsets.UTF_8));
            out.write('x');
            out.close(); // allowed: the stream stays usable for AtomicFile's own flush and fsync
        });
        assertEquals("second, x", Files.readString(f));
        AtomicFile.write(f, new byte[0]);
        assertEquals(0, Files.size(f));
        assertEquals(List.of("model.bin"), names());
    }

    @Test
    void largeContentIsWrittenCompletely() throws IOException {
        Path f = dir.resolve("big");
        byte[] b = new byte[3_000_001];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (i * 31 + 7);
        }
        AtomicFile.write(f, out -> {
            out.write(b, 0, 10);
            for (int i = 10; i < 1000; i++) {
                out.write(b[i]);
            }
            out.write(b, 1000, b.length - 1000);
        });
        assertArrayEquals(b, Files.readAllBytes(f));
    }

    @Test
    void failingBodyLeavesOldFileAndNoTemp() throws IOException {
        Path f = dir.resolve("model.bin");
        AtomicFile.write(f, "old".getBytes(StandardCharsets.UTF_8));
        IOException boom = new IOException("disk on fire");
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            out.write(new byte[200_000]); // more than the buffer: some of it reached the temp file
            throw boom;
        }));
        assertSame(boom, e);
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("model.bin"), names());

        RuntimeException r = assertThrows(IllegalStateException.class, () -> AtomicFile.write(f, out -> {
            out.write(1);
            throw new IllegalStateException("bug in the body");
        }));
        assertEquals("bug in the body", r.getMessage());
        assertEquals("old", Files.readString(f));
        assertEquals(List.of("model.bin"), names());
    }

    @Test
    void failingBodyWithoutTargetCreatesNothing() {
        Path f = dir.resolve("new.bin");
        assertThrows(IOException.class, () -> AtomicFile.write(f, out -> {
            throw new IOException("no");
        }));
        assertFalse(Files.exists(f));
        assertEquals(0, dir.toFile().list().length);
    }

    @Test
    void failedRenameLeavesNoTemp() throws IOException {
        Path target = dir.resolve("adir");
        Files.createDirectory(target);
        Files.writeString(target.resolve("inside"), "x");
        // renaming a file over a non-empty directory fails
        assertThrows(IOException.class, () -> AtomicFile.write(target, "data".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of("adir"), names());
        assertEquals("x", Files.readString(target.resolve("inside")));
    }

    @Test
    void missingDirectoryIsAnError() {
        Path f = dir.resolve("no/such/dir/file");
        assertThrows(NoSuchFileException.class, () -> AtomicFile.write(f, new byte[1]));
    }

    @Test
    void relativePathWorks() throws IOException {
        // a relative path is resolved against the working directory; it points into the temp folder,
        // so the test runs from any working directory (the checkout, or the GPU bundle with no target/)
        Path rel = Path.of("").toAbsolutePath().relativize(dir.resolve("atomic-file-test-" + ProcessHandle.current().pid()));
        assertFalse(rel.isAbsolute(), rel::toString);
        try {
            AtomicFile.write(rel, "r".getBytes(StandardCharsets.UTF_8));
            assertEquals("r", Files.readString(rel));
        } finally {
            Files.deleteIfExists(rel);
        }
    }
}
