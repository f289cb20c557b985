package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What {@link AtomicFile} does with targets that are not plain files: it writes through symbolic
 * links, refuses directories, devices, FIFOs and sockets (leaving them as they were and no
 * temporary file behind), and cleans the temporary files of writers that were killed.
 */
class AtomicFileTargetsTest {

    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    static void exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + ": " + out.strip());
        }
    }

    /** A FIFO at {@code p} ({@code mkfifo}, on every POSIX system). */
    static Path fifo(Path p) throws Exception {
        exec("mkfifo", p.toString());
        return p;
    }

    @Test
    void writesThroughASymbolicLinkAndKeepsTheLink() throws IOException {
        Path real = dir.resolve("real.bin");
        Files.writeString(real, "old");
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), Path.of("real.bin")); // relative link
        Path link2 = Files.createSymbolicLink(dir.resolve("link2.bin"), link); // a chain
        AtomicFile.write(link2, "new".getBytes(StandardCharsets.UTF_8));
        assertTrue(Files.isSymbolicLink(link) && Files.isSymbolicLink(link2), "links stay links");
        assertEquals("new", Files.readString(real));
        assertEquals(List.of("link.bin", "link2.bin", "real.bin"), names());
    }

    @Test
    void aDanglingLinkCreatesItsTarget() throws IOException {
        Path link = Files.createSymbolicLink(dir.resolve("link.bin"), dir.resolve("sub").resolve("target.bin"));
        Files.createDirectory(dir.resolve("sub"));
        AtomicFile.write(link, "x".getBytes(StandardCharsets.UTF_8));
        assertTrue(Files.isSymbolicLink(link));
        assertEquals("x", Files.readString(dir.resolve("sub/target.bin")));
    }

    @Test
    void aLoopOfLinksIsAnError() throws IOException {
        Files.createSymbolicLink(dir.resolve("a"), dir.resolve("b"));
        Files.createSymbolicLink(dir.resolve("b"), dir.resolve("a"));
        IOException e = assertThrows(IOException.class, () -> AtomicFile.write(dir.resolve("a"), new byte[1]));
        assertTrue(e.getMessage().contains("symbolic links"), e.getMessage());
        assertEquals(List.of("a", "b"), names());
    }

    @Test
    void refusesADirectoryEvenAnEmptyOne() throws IOException {
        Path d = Files.createDirectory(dir.resolve("empty"));
        AtomicFile.NotARegularFile e = assertThrows(AtomicFile.NotARegularFile.class, () -> AtomicFile.write(d, new byte[1]));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
        assertTrue(Files.isDirectory(d, LinkOption.NOFOLLOW_LINKS));
        assertEquals(List.of("empty"), names());
    }

    @Test
    void refusesAFifoAndALinkToIt() throws Exception {
        Path f = fifo(dir.resolve("pipe"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), f);
        for (Path target : List.of(f, link)) {
            AtomicFile.NotARegularFile e = assertThrows(AtomicFile.NotARegularFile.class,
                    () -> AtomicFile.write(target, "data".getBytes(StandardCharsets.UTF_8)));
            assertTrue(e.getMessage().contains("a FIFO"), e.getMessage());
        }
        assertFalse(Files.isRegularFile(f), "still a FIFO");
        assertEquals("a FIFO", AtomicFile.kindOf(f));
        assertEquals(List.of("link", "pipe"), names());
    }

    @Test
    void refusesASocket() throws IOException {
        Path sock = dir.resolve("s.sock");
        try (ServerSocketChannel ch = ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock));
            AtomicFile.NotARegularFile e = assertThrows(AtomicFile.NotARegularFile.class, () -> AtomicFile.write(sock, new byte[1]));
            assertTrue(e.getMessage().contains("a socket"), e.getMessage());
            assertEquals("a socket", AtomicFile.kindOf(sock));
        }
    }

    @Test
    void refusesADeviceNode() throws Exception {
        // a character device like /dev/full, made here (root only) so that a bug cannot replace the real one
        Path dev = dir.resolve("full");
        try {
            exec("mknod", dev.toString(), "c", "1", "7");
        } catch (IOException e) {
            Assumptions.abort("cannot make a device node here (needs root): " + e.getMessage());
        }
        AtomicFile.NotARegularFile e = assertThrows(AtomicFile.NotARegularFile.class, () -> AtomicFile.write(dev, new byte[70_000]));
        assertTrue(e.getMessage().contains("a character device"), e.getMessage());
        assertEquals("a character device", AtomicFile.kindOf(dev));
        assertEquals(List.of("full"), names());
    }

    @Test
    void theNextSaveCleansTheTempFilesOfADeadWriterButNotOfALiveOne() throws Exception {
        Path f = dir.resolve("model.bin");
        // a process that has ended: its pid names a dead writer
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor(30, TimeUnit.SECONDS);
        long deadPid = gone.pid();
        Assumptions.assumeFalse(ProcessHandle.of(deadPid).map(ProcessHandle::isAlive).orElse(false), "pid reused at once");
        long livePid = ProcessHandle.current().parent().map(ProcessHandle::pid).orElse(1L);
        Path stale = dir.resolve(String.format(Locale.ROOT, ".model.bin.%08xbeef.tmp", deadPid));
        Path live = dir.resolve(String.format(Locale.ROOT, ".model.bin.%08xcafe.tmp", livePid));
        Path other = dir.resolve(String.format(Locale.ROOT, ".other.bin.%08xbeef.tmp", deadPid));
        for (Path p : List.of(stale, live, other)) {
            Files.write(p, new byte[100]);
        }
        AtomicFile.write(f, "new".getBytes(StandardCharsets.UTF_8));
        assertFalse(Files.exists(stale), "the dead writer's temporary file is cleaned");
        assertTrue(Files.exists(live), "a live process's temporary file is left alone");
        assertTrue(Files.exists(other), "another target's temporary file is left alone");
        assertEquals("new", Files.readString(f));
    }
}
