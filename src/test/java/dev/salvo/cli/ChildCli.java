package dev.salvo.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs salvo command lines in a child JVM (for what one JVM cannot do to itself: a small -Xmx, an
 * environment variable, fewer capabilities). {@link #main} runs each command line (separated by
 * {@code --then}) with {@link Main#run} and prints its stderr and exit code between markers.
 */
public final class ChildCli {

    private static final String THEN = "--then";
    private static final String BEGIN = "<<<salvo-child-command>>>";
    private static final String END = "<<<salvo-child-exit ";

    private ChildCli() {
    }

    public static void main(String[] args) {
        List<String> cmd = new ArrayList<>();
        for (int i = 0; i <= args.length; i++) {
            if (i == args.length || args[i].equals(THEN)) {
                StringWriter out = new StringWriter();
                StringWriter err = new StringWriter();
                int code = Main.run(cmd.toArray(new String[0]), new PrintWriter(out, true), new PrintWriter(err, true));
                System.out.println(BEGIN);
                System.out.print(err);
                System.out.println(END + code + ">>>");
                System.out.flush();
                cmd.clear();
            } else {
                cmd.add(args[i]);
            }
        }
    }

    /**
     * Starts {@code prefix java jvmOptions ChildCli commands...} with {@code env} added, and returns
     * one result per command (its stderr and exit code; stdout is not kept).
     */
    static List<CliTest.Result> run(List<String> prefix, List<String> jvmOptions, Map<String, String> env,
                                    List<List<String>> commands) throws Exception {
        String cp = dev.salvo.Check.childClassPath(Main.class, ChildCli.class, org.jocl.CL.class, picocli.CommandLine.class,
                com.fasterxml.jackson.databind.ObjectMapper.class, com.fasterxml.jackson.core.JsonFactory.class,
                com.fasterxml.jackson.annotation.JsonProperty.class, jcuda.driver.JCudaDriver.class);
        List<String> argv = new ArrayList<>(prefix);
        argv.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        argv.addAll(jvmOptions);
        argv.addAll(List.of("-cp", cp, ChildCli.class.getName()));
        for (int i = 0; i < commands.size(); i++) {
            if (i > 0) {
                argv.add(THEN);
            }
            argv.addAll(commands.get(i));
        }
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        Process p = pb.start();
        String all = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the child JVM did not finish: " + all);
        }
        List<CliTest.Result> results = new ArrayList<>();
        int at = 0;
        while (true) {
            int b = all.indexOf(BEGIN, at);
            if (b < 0) {
                break;
            }
            int e = all.indexOf(END, b);
            if (e < 0) {
                throw new AssertionError("the child JVM stopped inside a command (exit " + p.exitValue() + "): " + all);
            }
            int close = all.indexOf(">>>", e + END.length());
            int code = Integer.parseInt(all.substring(e + END.length(), close));
            results.add(new CliTest.Result(code, "", all.substring(b + BEGIN.length() + 1, e)));
            at = close;
        }
        if (results.size() != commands.size()) {
            throw new AssertionError("expected " + commands.size() + " results from the child JVM (exit " + p.exitValue()
                    + "), got " + results.size() + ": " + all);
        }
        return results;
    }
}
