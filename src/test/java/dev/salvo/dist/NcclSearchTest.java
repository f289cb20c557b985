package dev.salvo.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where {@link Nccl#find()} looks for libnccl.so.2, in which order, on a fake file system and environment. */
class NcclSearchTest {

    @TempDir
    Path tmp;

    private Path lib(Path dir) throws IOException {
        Files.createDirectories(dir);
        return Files.writeString(dir.resolve(Nccl.LIBRARY), "not really a library");
    }

    private Path root() {
        return tmp.resolve("root");
    }

    private Path home() {
        return tmp.resolve("home/user");
    }

    private Path find(Map<String, String> env) {
        return Nccl.find(env, root(), home());
    }

    @Test
    void nothingInstalledIsNull() throws IOException {
        Files.createDirectories(root().resolve("usr/lib/python3.12/site-packages/nvidia"));
        assertNull(find(Map.of()));
        assertNull(find(Map.of("LD_LIBRARY_PATH", ":" + tmp.resolve("nothing") + "::", "NCCL_LIBRARY", tmp.resolve("absent.so").toString())));
    }

    @Test
    void pipInstallOfPyTorchIsFoundInSiteAndDistPackages() throws IOException {
        Path user = lib(home().resolve(".local/lib/python3.11/site-packages/nvidia/nccl/lib"));
        assertEquals(user, find(Map.of()));
        Path local = lib(root().resolve("usr/local/lib/python3.10/dist-packages/nvidia/nccl/lib"));
        assertEquals(local, find(Map.of()), "/usr/local/lib before ~/.local/lib");
        Path system = lib(root().resolve("usr/lib/python3.12/site-packages/nvidia/nccl/lib"));
        assertEquals(system, find(Map.of()), "/usr/lib before /usr/local/lib");
        Path older = lib(root().resolve("usr/lib/python3.11/dist-packages/nvidia/nccl/lib"));
        assertEquals(older, find(Map.of()), "python folders in name order");
    }

    @Test
    void aFolderNamedLikeTheLibraryIsNotTheLibrary() throws IOException {
        Files.createDirectories(root().resolve("usr/local/cuda/lib64").resolve(Nccl.LIBRARY));
        Files.createDirectories(tmp.resolve("env-dir").resolve(Nccl.LIBRARY));
        assertNull(find(Map.of("NCCL_LIBRARY", tmp.resolve("env-dir").toString(), "LD_LIBRARY_PATH", tmp.resolve("env-dir").toString())));
    }

    @Test
    void searchOrder() throws IOException {
        Map<String, String> env = new HashMap<>();
        Path python = lib(root().resolve("usr/lib/python3.12/site-packages/nvidia/nccl/lib"));
        assertEquals(python, find(env));
        Path optNccl = lib(root().resolve("opt/nccl/lib"));
        assertEquals(optNccl, find(env), "/opt/nccl/lib before Python");
        Path localNccl = lib(root().resolve("usr/local/nccl/lib"));
        assertEquals(localNccl, find(env), "/usr/local/nccl/lib before /opt/nccl/lib");
        Path cuda = lib(root().resolve("usr/local/cuda/lib64"));
        assertEquals(cuda, find(env), "/usr/local/cuda/lib64 before /usr/local/nccl/lib");
        Path apt = lib(root().resolve("usr/lib/x86_64-linux-gnu"));
        assertEquals(apt, find(env), "the system library folder before CUDA's");
        Path second = lib(tmp.resolve("ld/second"));
        env.put("LD_LIBRARY_PATH", tmp.resolve("ld/first") + ":" + tmp.resolve("ld/second"));
        assertEquals(second, find(env), "LD_LIBRARY_PATH before the system folders");
        Path first = lib(tmp.resolve("ld/first"));
        assertEquals(first, find(env), "LD_LIBRARY_PATH in order");
        Path named = Files.writeString(tmp.resolve("my-nccl.so"), "x");
        env.put("NCCL_LIBRARY", named.toString());
        assertEquals(named, find(env), "NCCL_LIBRARY first, whatever its file name");
    }

    @Test
    void placesListEverythingSearchedInOrder() throws IOException {
        Files.createDirectories(root().resolve("usr/local/lib/python3.9/site-packages"));
        List<Path> places = NcclSearch.places(Map.of("NCCL_LIBRARY", "/x/libnccl.so.2", "LD_LIBRARY_PATH", "/a:/b"), root(), home());
        List<Path> want = List.of(Path.of("/x/libnccl.so.2"), Path.of("/a/libnccl.so.2"), Path.of("/b/libnccl.so.2"),
                root().resolve("usr/lib/x86_64-linux-gnu/libnccl.so.2"), root().resolve("usr/local/cuda/lib64/libnccl.so.2"),
                root().resolve("usr/local/nccl/lib/libnccl.so.2"), root().resolve("opt/nccl/lib/libnccl.so.2"),
                root().resolve("usr/local/lib/python3.9/site-packages/nvidia/nccl/lib/libnccl.so.2"),
                root().resolve("usr/local/lib/python3.9/dist-packages/nvidia/nccl/lib/libnccl.so.2"));
        assertEquals(want, places);
    }

    @Test
    void theRealSearchRunsAnywhere() {
        Path p = Nccl.find();
        assertTrue(p == null || Files.isRegularFile(p), String.valueOf(p));
        System.out.println("libnccl.so.2 on this machine: " + (p == null ? "not found" : p));
    }

    @Test
    void versionCodesInWords() {
        assertEquals("2.21.5", NcclSearch.version(22105));
        assertEquals("2.18.3", NcclSearch.version(21803));
        assertEquals("2.9.6", NcclSearch.version(20906));
        assertEquals("2.7.8", NcclSearch.version(2708));
    }

    @Test
    void notFoundSaysWhereAndHowToInstall() {
        String m = NcclSearch.notFound();
        for (String s : List.of("libnccl.so.2 not found", "NCCL_LIBRARY", "LD_LIBRARY_PATH", "/usr/local/cuda/lib64", "site-packages",
                "pip install nvidia-nccl-cu12", "apt-get install libnccl2")) {
            assertTrue(m.contains(s), m + " lacks " + s);
        }
    }
}
