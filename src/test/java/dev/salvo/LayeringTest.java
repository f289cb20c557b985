package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The layers of the code (design.md, "Architecture"): a package imports only packages at its own
 * level or below, never one above; the providers never import each other; and no main-code file
 * grows past about 600 lines.
 */
class LayeringTest {

    /** Level of each package: a package may import packages of a lower or equal level only. */
    private static final Map<String, Integer> LEVEL = Map.ofEntries(
            Map.entry("util", 0), Map.entry("device", 1), Map.entry("device.ops", 2), Map.entry("kernel", 3),
            Map.entry("device.cpu", 4), Map.entry("device.opencl", 4), Map.entry("device.cuda", 4),
            Map.entry("data", 1), Map.entry("nn", 5), Map.entry("nn.layer", 5), Map.entry("io", 6), Map.entry("dist", 6),
            Map.entry("train", 7), Map.entry("check", 8), Map.entry("bench", 8), Map.entry("cli", 9));

    private static final Path ROOT = Path.of("src/main/java/dev/salvo");
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?dev\\.salvo\\.([a-z.]+)\\.[A-Z]", Pattern.MULTILINE);
    private static final Pattern FQN = Pattern.compile("dev\\.salvo\\.([a-z]+(?:\\.[a-z]+)*)\\.[A-Z]");

    @Test
    void noImportRunsBackUpALayer() throws IOException {
        Check.inCheckout(ROOT.toString());
        List<String> bad = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = ROOT.relativize(f.getParent()).toString().replace('/', '.');
                Integer mine = LEVEL.get(pkg);
                if (mine == null) {
                    bad.add(f + ": package " + pkg + " has no level in LayeringTest (and design.md)");
                    continue;
                }
                String text = Files.readString(f);
                Matcher m = FQN.matcher(text);
                while (m.find()) {
                    String used = m.group(1);
                    Integer level = LEVEL.get(used);
                    boolean sideways = level != null && level.equals(mine) && mine == 4 && !used.equals(pkg);
                    if (level != null && (level > mine || sideways)) {
                        bad.add(f + " (" + pkg + ") uses " + used);
                    }
                }
            }
        }
        assertEquals(List.of(), bad.stream().distinct().toList());
    }

    @Test
    void noMainFileIsLongerThan600Lines() throws IOException {
        Check.inCheckout(ROOT.toString());
        List<String> long_ = new ArrayList<>();
        try (Stream<Path> files = Files.walk(ROOT)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                long n = Files.readAllLines(f).size();
                if (n > 600) {
                    long_.add(f + ": " + n + " lines");
                }
            }
        }
        assertEquals(List.of(), long_);
    }
}
