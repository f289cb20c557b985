package dev.salvo.dist;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Where {@code libnccl.so.2} may be, in order, and NCCL's version numbers in words: pure Java, so
 * both builds of {@link Nccl} (JDK 17 and JDK 22+) share it and it is tested on any JDK.
 */
final class NcclSearch {

    /** Folders of a system or CUDA install, relative to the file-system root. */
    static final List<String> SYSTEM_DIRS = List.of("usr/lib/x86_64-linux-gnu", "usr/local/cuda/lib64", "usr/local/nccl/lib", "opt/nccl/lib");

    private NcclSearch() {
    }

    /** The first {@code libnccl.so.2} among {@link #places}, or null. */
    static Path find(Map<String, String> env, Path root, Path home) {
        for (Path p : places(env, root, home)) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * The files looked at, in order: {@code NCCL_LIBRARY} (a file), {@code libnccl.so.2} in each
     * folder of {@code LD_LIBRARY_PATH}, in {@link #SYSTEM_DIRS} under {@code root}, then in
     * {@code nvidia/nccl/lib} of every {@code site-packages} and {@code dist-packages} folder of the
     * Python 3 installs under {@code root/usr/lib}, {@code root/usr/local/lib} and
     * {@code home/.local/lib} (where {@code pip install torch} puts NCCL). Python folders are taken
     * in name order, so the list is the same on every run.
     */
    static List<Path> places(Map<String, String> env, Path root, Path home) {
        List<Path> out = new ArrayList<>();
        String explicit = env.get("NCCL_LIBRARY");
        if (explicit != null && !explicit.isBlank()) {
            out.add(Path.of(explicit.strip()));
        }
        String ld = env.get("LD_LIBRARY_PATH");
        if (ld != null) {
            for (String dir : ld.split(":")) {
                if (!dir.isBlank()) {
                    out.add(Path.of(dir.strip()).resolve(Nccl.LIBRARY));
                }
            }
        }
        for (String dir : SYSTEM_DIRS) {
            out.add(root.resolve(dir).resolve(Nccl.LIBRARY));
        }
        List<Path> bases = new ArrayList<>(List.of(root.resolve("usr/lib"), root.resolve("usr/local/lib")));
        if (home != null) {
            bases.add(home.resolve(".local/lib"));
        }
        for (Path base : bases) {
            for (Path python : pythons(base)) {
                for (String packages : List.of("site-packages", "dist-packages")) {
                    out.add(python.resolve(packages).resolve("nvidia/nccl/lib").resolve(Nccl.LIBRARY));
                }
            }
        }
        return out;
    }

    private static List<Path> pythons(Path base) {
        List<Path> found = new ArrayList<>();
        if (!Files.isDirectory(base)) {
            return found;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(base, "python3*")) {
            for (Path p : s) {
                if (Files.isDirectory(p)) {
                    found.add(p);
                }
            }
        } catch (IOException | SecurityException e) {
            // an unreadable folder holds nothing we can load
        }
        found.sort(null);
        return found;
    }

    /** The search this process makes: its environment, {@code /} and the user's home. */
    static Path findHere() {
        return find(System.getenv(), Path.of("/"), home());
    }

    private static Path home() {
        String h = System.getProperty("user.home");
        return h == null || h.isEmpty() ? null : Path.of(h);
    }

    /** Why NCCL cannot be used: where it was looked for and how to install it. */
    static String notFound() {
        return Nccl.LIBRARY + " not found (looked at NCCL_LIBRARY, each folder of LD_LIBRARY_PATH, "
                + String.join(", ", SYSTEM_DIRS.stream().map(d -> "/" + d).toArray(String[]::new))
                + " and nvidia/nccl/lib of the Python 3 site-packages): install it with apt-get install libnccl2"
                + " (NVIDIA's CUDA repository) or pip install nvidia-nccl-cu12, or name the file with NCCL_LIBRARY=/path/to/"
                + Nccl.LIBRARY;
    }

    /** {@code ncclGetVersion}'s code in words: 22105 is "2.21.5" (NCCL 2.9 and newer), 2708 is "2.7.8" (older). */
    static String version(int code) {
        int major;
        int minor;
        if (code >= 10000) {
            major = code / 10000;
            minor = code % 10000 / 100;
        } else {
            major = code / 1000;
            minor = code % 1000 / 100;
        }
        return major + "." + minor + "." + code % 100;
    }
}
