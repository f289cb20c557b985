package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;

/** The {@code --help} of every command: no picocli warnings, whole sentences, and the exit codes. */
class HelpTextTest {

    /** The codes each command can return (picocli's own {@code help} command aside). */
    static final Map<String, List<Integer>> EXIT_CODES = new LinkedHashMap<>();

    static {
        EXIT_CODES.put("", List.of(0, 1, 2, 3, 4, 130));
        EXIT_CODES.put("train", List.of(0, 1, 2, 3, 4, 130));
        EXIT_CODES.put("eval", List.of(0, 1, 2, 3));
        EXIT_CODES.put("predict", List.of(0, 1, 2, 3));
        EXIT_CODES.put("generate", List.of(0, 1, 2, 3));
        EXIT_CODES.put("plot", List.of(0, 1, 2));
        EXIT_CODES.put("devices", List.of(0, 1));
        EXIT_CODES.put("check", List.of(0, 1, 2, 3));
        EXIT_CODES.put("bench", List.of(0, 1, 2, 3));
        EXIT_CODES.put("tune", List.of(0, 1, 2, 3));
    }

    static Stream<String> commands() {
        return EXIT_CODES.keySet().stream();
    }

    private static CommandSpec spec(String name) {
        CommandLine root = new CommandLine(new Main());
        return name.isEmpty() ? root.getCommandSpec() : root.getSubcommands().get(name).getCommandSpec();
    }

    private static String help(String name) {
        CliTest.Result r = name.isEmpty() ? CliTest.run("--help") : CliTest.run(name, "--help");
        assertEquals(0, r.code(), r.err());
        return r.out();
    }

    @Test
    void theTableOfCommandsIsComplete() {
        List<String> names = new ArrayList<>(new CommandLine(new Main()).getSubcommands().keySet());
        names.remove("help");
        assertEquals(names, EXIT_CODES.keySet().stream().filter(n -> !n.isEmpty()).toList(),
                "a command was added: give it its exit codes here and in its @Command");
    }

    /**
     * picocli formats every help text with {@link String#format}; a stray {@code %} (such as
     * "10% of train") makes it print "[picocli WARN] Could not format ..." on stderr and show the raw
     * text. picocli's warning goes to the System.err it saw at start-up, so the texts are checked here.
     */
    @ParameterizedTest
    @MethodSource("commands")
    void everyHelpTextFormatsWithoutAPicocliWarning(String name) {
        CommandSpec s = spec(name);
        List<String> texts = new ArrayList<>();
        texts.addAll(List.of(s.usageMessage().description()));
        texts.addAll(List.of(s.usageMessage().header()));
        texts.addAll(List.of(s.usageMessage().footer()));
        texts.add(s.usageMessage().exitCodeListHeading());
        texts.addAll(s.usageMessage().exitCodeList().values());
        for (ArgSpec a : s.args()) {
            texts.addAll(List.of(a.description()));
        }
        for (String t : texts) {
            try {
                String.format(Locale.ROOT, t);
            } catch (java.util.IllegalFormatException e) {
                fail("salvo " + name + ": picocli cannot format \"" + t + "\" (" + e + "); write %% for a percent sign");
            }
        }
        assertFalse(help(name).contains("%n"), "unformatted help of salvo " + name);
    }

    /** Each element of a description is a paragraph that picocli wraps, not a line cut mid-sentence. */
    @ParameterizedTest
    @MethodSource("commands")
    void descriptionsAreWholeParagraphs(String name) {
        for (String p : spec(name).usageMessage().description()) {
            String t = p.strip();
            assertTrue(t.endsWith(".") || t.endsWith(".)") || t.endsWith(":"),
                    "salvo " + name + ": a description line that ends mid-sentence (a hard line break?): \"" + p + "\"");
        }
    }

    @Test
    void theTopLevelHelpSummarisesEachCommandInAWholeSentence() {
        String out = help("");
        String commands = out.substring(out.indexOf("Commands:"));
        Map<String, StringBuilder> summaries = new LinkedHashMap<>();
        StringBuilder current = null;
        for (String line : commands.lines().skip(1).toList()) {
            Matcher m = Pattern.compile("^  (\\S+)\\s+(.*)$").matcher(line);
            if (m.matches()) {
                current = new StringBuilder(m.group(2).strip());
                summaries.put(m.group(1), current);
            } else if (current != null && line.startsWith("    ")) {
                current.append(' ').append(line.strip());
            } else {
                break; // the end of the list of commands
            }
        }
        assertTrue(summaries.keySet().containsAll(List.of("train", "eval", "predict", "plot", "devices", "check", "bench", "tune")),
                summaries.toString());
        summaries.forEach((cmd, text) -> {
            assertTrue(text.toString().endsWith("."), "salvo --help cuts the summary of " + cmd + ": \"" + text + "\"");
            assertFalse(text.toString().contains("DESIGN"), cmd + " names a document the project does not have: " + text);
        });
    }

    @ParameterizedTest
    @MethodSource("commands")
    void everyHelpEndsWithTheExitCodesOfItsCommand(String name) {
        String out = help(name);
        int at = out.indexOf("Exit codes:");
        assertTrue(at >= 0, "salvo " + name + " --help lists no exit codes:\n" + out);
        String list = out.substring(at);
        for (int code : EXIT_CODES.get(name)) {
            assertTrue(Pattern.compile("(?m)^\\s+" + code + "\\s+\\S").matcher(list).find(),
                    "salvo " + name + " --help does not explain exit code " + code + ":\n" + list);
        }
        assertTrue(spec(name).usageMessage().exitCodeList().size() == EXIT_CODES.get(name).size(),
                "salvo " + name + ": exit codes listed " + spec(name).usageMessage().exitCodeList().keySet());
    }

    /**
     * How long {@code tune --quick} takes depends on the device and the load; the README gives the
     * measured range, the help does not repeat a figure that would drift from it.
     */
    @Test
    void tuneQuickMakesNoTimingClaimOfItsOwn() {
        String quick = String.join(" ", spec("tune").findOption("--quick").description());
        assertFalse(quick.contains("minute"), "tune --quick help: " + quick);
    }
}
