package dev.salvo.cli;

import dev.salvo.device.DeviceException;
import dev.salvo.train.TrainingDivergedException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code salvo} command line. Exit codes: 0 success, 1 unexpected failure, 2 bad input
 * (options, files, data that does not fit in the Java heap), 3 a named device is unavailable, its
 * kernels do not compile, or it is out of memory (the bytes asked and free), 4 training diverged, 130 interrupted by SIGINT or
 * SIGTERM (the run is saved first; see {@code Interrupts}).
 */
@Command(name = "salvo", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Train neural networks on a GPU, OpenCL device or the CPU.",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE, ExitCodes.DIVERGED,
                ExitCodes.INTERRUPTED},
        subcommands = {TrainCommand.class, EvalCommand.class, PredictCommand.class, GenerateCommand.class, PlotCommand.class, DevicesCommand.class,
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
        cl.setExecutionStrategy(parseResult -> {
            checkOverrides(parseResult);
            return new CommandLine.RunLast().execute(parseResult);
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            int rc = handle(ex, qualified(commandLine), err);
            DistributedRun.fail(rc); // one rank of a data-parallel job failed: end them all (does not return then)
            return rc;
        });
        try {
            return cl.execute(args);
        } catch (OutOfMemoryError e) {
            // the heap is free again once the failed command's data is unreachable
            long max = Runtime.getRuntime().maxMemory();
            err.println("salvo" + (args.length > 0 && !args[0].startsWith("-") ? " " + args[0] : "") + ": the Java heap ("
                    + (max >> 20) + " MB) ran out: give the JVM more with SALVO_JAVA_OPTS=-Xmx<size> (the salvo script passes it"
                    + " to java), or use smaller data, network or --batch-size");
            DistributedRun.fail(EXIT_USAGE);
            return EXIT_USAGE;
        }
    }

    /** Set on ranks other than 0 of a data-parallel job: bad input that every rank sees alike is reported by rank 0 only. */
    private static volatile boolean quietUsage;

    static void quietUsageErrors() {
        quietUsage = true;
    }

    /** Prints a failed command's error (one line; a stack trace only for a bug) and returns its exit code. */
    private static int handle(Exception ex, String cmd, PrintWriter err) {
        if (quietUsage && !DistributedRun.otherRank() && ex instanceof IllegalArgumentException
                && !DistributedRun.outlivesRankZero()) {
            // a rank other than 0 before MPI started: rank 0 reports the same bad input, and mpirun ends
            // this rank meanwhile; one still here after the grace period has input that rank 0 does not
            // share (a file only its machine lacks), so it goes on to say what
            return EXIT_USAGE;
        }
        if (quietUsage || DistributedRun.otherRank()) { // quietUsage: a rank other than 0, before or after MPI started
            cmd = cmd + " (rank " + DistributedRun.launchRank() + ")";
        }
        {
            if (ex instanceof IllegalArgumentException || ex instanceof dev.salvo.data.DataFormatException
                    || ex instanceof dev.salvo.io.SafeTensorsException) {
                err.println(cmd + ": " + ex.getMessage());
                return EXIT_USAGE;
            }
            if (ex instanceof DeviceException.Unavailable || ex instanceof DeviceException.KernelCompile) {
                err.println(cmd + ": " + ex.getMessage().stripTrailing());
                return EXIT_UNAVAILABLE;
            }
            if (ex instanceof DeviceException.OutOfMemory oom) {
                err.println(cmd + ": " + outOfMemory(oom));
                return EXIT_UNAVAILABLE;
            }
            if (ex instanceof java.io.UncheckedIOException io) {
                // an output that failed mid-run (disk full, a path changed under us): the file and the reason
                err.println(cmd + ": " + io.getMessage());
                return io.getCause() instanceof dev.salvo.io.AtomicFile.NotARegularFile ? EXIT_USAGE : 1;
            }
            if (ex instanceof TrainingDivergedException) {
                err.println(cmd + ": " + ex.getMessage());
                return EXIT_DIVERGED;
            }
            if (ex instanceof dev.salvo.dist.DistributedException) {
                err.println(cmd + ": " + ex.getMessage());
                return 1;
            }
            err.println(cmd + ": failed: " + ex);
            ex.printStackTrace(err);
            return 1;
        }
    }

    /** A device's out-of-memory in one line: the bytes asked and free, and what to change. */
    private static String outOfMemory(DeviceException.OutOfMemory oom) {
        String m = oom.getMessage() + "; use a smaller --batch-size or network";
        if (oom.getMessage().startsWith("cpu:") && !oom.getMessage().contains("Java arrays hold")) {
            long max = Runtime.getRuntime().maxMemory();
            m += ", or give the JVM more heap (the cpu device's memory; now " + (max >> 20) + " MB), e.g. SALVO_JAVA_OPTS=-Xmx"
                    + DataSource.suggestedHeap(max + oom.requestedBytes());
        }
        return m;
    }

    /**
     * Before a command runs (not for --help or --version): {@code SALVO_KERNELS} and
     * {@code SALVO_NATIVE_CONFIG} (or their -D properties) must name directories, and the
     * native-config files there must be readable UTF-8 text; otherwise exit 2 naming the variable or file.
     */
    private static void checkOverrides(CommandLine.ParseResult parseResult) {
        for (CommandLine.ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
                return;
            }
        }
        try {
            dev.salvo.kernel.KernelSource.overrideDir();
            dev.salvo.kernel.NativeConfig.checkOverride();
        } catch (IllegalArgumentException e) {
            CommandLine.ParseResult last = parseResult;
            while (last.subcommand() != null) {
                last = last.subcommand();
            }
            throw new CommandLine.ExecutionException(last.commandSpec().commandLine(), e.getMessage(), e);
        }
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
