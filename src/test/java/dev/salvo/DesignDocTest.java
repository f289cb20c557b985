package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Tolerance;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The project's design document exists, the README links it, and nothing cites a document that is not there. */
class DesignDocTest {

    @org.junit.jupiter.api.BeforeEach
    void needTheCheckout() {
        Check.inCheckout("README.md", DESIGN.toString());
    }

    static final Path DESIGN = Path.of("src/site/markdown/design.md");
    /** The old name, spelled so that this file does not match itself. */
    static final String OLD_NAME = "DESIGN" + ".md";

    @Test
    void nothingCitesADesignDocumentThatDoesNotExist() throws IOException {
        List<String> hits = new ArrayList<>();
        for (String root : List.of("src", "kernels", "native-config", "tests-gpu", ".ci", "README.md", "salvo", "pom.xml")) {
            Path r = Path.of(root);
            if (!Files.exists(r)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(r)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    if (f.toString().contains("/bundle/")) {
                        continue; // tests-gpu/bundle: build output, ignored by git
                    }
                    List<String> lines = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).lines().toList();
                    for (int i = 0; i < lines.size(); i++) {
                        if (lines.get(i).contains(OLD_NAME)) {
                            hits.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), hits, "cite " + DESIGN + " instead");
        assertTrue(!Files.exists(Path.of(OLD_NAME)), "the design document lives in " + DESIGN);
    }

    @Test
    void theReadmeLinksTheDesignDocumentAndItsLinksResolve() throws IOException {
        assertTrue(Files.isRegularFile(DESIGN), DESIGN + " is missing");
        String readme = Files.readString(Path.of("README.md"));
        assertTrue(readme.contains("](" + DESIGN.toString().replace('\\', '/') + ")"), "README.md does not link " + DESIGN);
        Matcher m = Pattern.compile("\\]\\(([^)#\\s]+)(#[^)]*)?\\)").matcher(Files.readString(DESIGN));
        while (m.find()) {
            String target = m.group(1);
            if (!target.contains("://")) {
                assertTrue(Files.exists(DESIGN.getParent().resolve(target).normalize()), "design.md links a missing file: " + target);
            }
        }
    }

    @Test
    void theDesignDocumentStatesTheBoundsTheCodeUses() throws IOException {
        String doc = Files.readString(DESIGN);
        assertEquals(1.3e-6, Tolerance.RTOL);
        assertEquals(1e-5, Tolerance.ATOL);
        for (String s : List.of("1e-5 + 1.3e-6 |ref|", "2 gamma(K) (|A||B|)_ij", "sqrt(K+2)", "2^-24", "eps = 1e-6", "`1e-7`", "`1e-4`",
                "within `1e-3` relative", "20 steps", "0.5 points", "bitwise")) {
            assertTrue(doc.contains(s), "design.md does not state " + s);
        }
    }

    @Test
    void theArchitectureNamesEveryPackage() throws IOException {
        String doc = Files.readString(DESIGN);
        Path root = Path.of("src/main/java/dev/salvo");
        try (Stream<Path> dirs = Files.walk(root)) {
            for (Path d : dirs.filter(Files::isDirectory).filter(d -> !d.equals(root)).toList()) {
                String pkg = root.relativize(d).toString().replace('/', '.');
                assertTrue(doc.contains("`" + pkg + "`"), "design.md's architecture leaves out package " + pkg);
            }
        }
    }
}
