package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.nn.Model;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringWriter;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "Java API" section, taken from README.md itself: its Java code block is compiled
 * (with the JDK's compiler, against the classes under test) and run, and its Maven snippet must
 * name this project's coordinates. So the README cannot drift from the code.
 */
class ReadmeExampleTest {

    @org.junit.jupiter.api.BeforeEach
    void needTheCheckout() {
        Check.inCheckout("README.md", "pom.xml");
    }

    static final Path README = Path.of("README.md");

    /** The body of the first {@code lang} code block of the README section under {@code heading}. */
    static String block(String heading, String lang) throws IOException {
        String readme = Files.readString(README);
        int at = readme.indexOf("\n## " + heading + "\n");
        assertTrue(at >= 0, "README.md has no section \"## " + heading + "\"");
        int end = readme.indexOf("\n## ", at + 1);
        String section = readme.substring(at, end < 0 ? readme.length() : end);
        Matcher m = Pattern.compile("(?s)```" + lang + "\n(.*?)```").matcher(section);
        assertTrue(m.find(), "no ```" + lang + " block in README section " + heading);
        return m.group(1);
    }

    @Test
    void theReadmeShowsThisProjectsMavenCoordinatesAndTheJvmFlag() throws IOException {
        String pom = Files.readString(Path.of("pom.xml"));
        String project = pom.substring(0, pom.indexOf("<dependencies>"));
        String xml = block("Java API", "xml");
        for (String tag : List.of("groupId", "artifactId", "version")) {
            Matcher m = Pattern.compile("<" + tag + ">([^<]+)</" + tag + ">").matcher(project);
            assertTrue(m.find(), tag);
            assertTrue(xml.contains("<" + tag + ">" + m.group(1) + "</" + tag + ">"), "README's dependency lacks " + m.group(0) + ":\n" + xml);
        }
        assertTrue(Files.readString(README).contains("--add-modules jdk.incubator.vector"));
    }

    @Test
    void theReadmeExampleCompilesAndRuns(@TempDir Path dir) throws Exception {
        String source = block("Java API", "java");
        Matcher name = Pattern.compile("public (?:final )?class (\\w+)").matcher(source);
        assertTrue(name.find(), "the README example declares no public class:\n" + source);
        Path src = dir.resolve(name.group(1) + ".java");
        Files.writeString(src, source);
        Path classes = Files.createDirectories(dir.resolve("classes"));

        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        org.junit.jupiter.api.Assumptions.assumeTrue(javac != null, "this Java runtime has no compiler (a JRE or jlinked runtime)");
        StringWriter log = new StringWriter();
        boolean ok = javac.getTask(log, null, null, List.of("--release", "17", "-Xlint:all", "-Werror",
                        "-classpath", Check.childClassPath(Model.class, Device.class), "-d", classes.toString()), null,
                javac.getStandardFileManager(null, null, StandardCharsets.UTF_8).getJavaFileObjects(src)).call();
        assertTrue(ok, "the README example does not compile:\n" + log);

        Path model = dir.resolve("digits.safetensors");
        PrintStream saved = System.out;
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader())) {
            Method main = loader.loadClass(name.group(1)).getMethod("main", String[].class);
            System.setOut(new PrintStream(printed, true, StandardCharsets.UTF_8));
            main.invoke(null, (Object) new String[] {model.toString()});
        } finally {
            System.setOut(saved);
        }
        String out = printed.toString(StandardCharsets.UTF_8);
        System.out.print(out);
        Matcher acc = Pattern.compile("test accuracy ([0-9.]+)%").matcher(out);
        assertTrue(acc.find(), out);
        assertTrue(Double.parseDouble(acc.group(1)) >= 95, "accuracy " + acc.group(1));
        assertTrue(Files.size(model) > 1000, "the example saves the model");
        Matcher predicted = Pattern.compile("image \\d+: predicted (\\d+), label (\\d+)").matcher(out);
        int lines = 0;
        int right = 0;
        while (predicted.find()) {
            lines++;
            right += predicted.group(1).equals(predicted.group(2)) ? 1 : 0;
        }
        assertEquals(5, lines, "the loaded model predicts five images:\n" + out);
        assertTrue(right >= 4, "the loaded model predicts like the trained one:\n" + out);
    }
}
