package dev.salvo.cli;

import dev.salvo.device.DeviceException;
import dev.salvo.train.TrainingDivergedException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code salvo} command line. Exit codes: 0 success, 1 unexpected failure, 2 bad input
 * (options, files, data that does not fit), 3 a named device is unavailable, 4 training diverged.
 */
@Command(name = "salvo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train neural networks on a GPU, OpenCL device or the CPU.",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE, ExitCodes.DIVERGED},
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, PlotCommand.class, DevicesCommand.class,
                CheckCommand.class, BenchCommand.class, TuneCommand.class, CommandLine.HelpCommand.class})
public final class Main {

    public static final int EXIT_USAGE = 2;
    public static final int EXIT_UNAVAILABLE = 3;
    public static final int EXIT_DIVERGED = 4;

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (tests call this). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            String cmd = ex.getCommandLine().getCommandName();
            err.println(cmd + ": " + ex.getMessage() + " (see " + qualified(ex.getCommandLine()) + " --help)");
            return EXIT_USAGE;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            String cmd = qualified(commandLine);
            if (ex instanceof IllegalArgumentException || ex instanceof dev.salvo.data.DataFormatException
                    || ex instanceof dev.salvo.io.SafeTensorsException) {
                err.println(cmd + ": " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof DeviceException.Unavailable) {
                err.println(cmd + ": " + ex.getMessage());
                return EXIT_UNAVAILABLE;
            }
            if (ex instanceof TrainingDivergedException) {
                err.println(cmd + ": " + ex.getMessage());
                return EXIT_DIVERGED;
            }
            err.println(cmd + ": failed: " + ex);
            ex.printStackTrace(err);
            return 1;
        });
        return cl.execute(args);
    }

    private static String qualified(CommandLine c) {
        StringBuilder sb = new StringBuilder(c.getCommandName());
        for (CommandLine p = c.getParent(); p != null; p = p.getParent()) {
            sb.insert(0, p.getCommandName() + " ");
        }
        return sb.toString();
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"salvo " + (v == null ? "dev" : v) + " on Java " + Runtime.version()};
        }
    }
}
