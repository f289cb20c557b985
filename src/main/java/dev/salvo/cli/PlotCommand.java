package dev.salvo.cli;

import dev.salvo.io.OutputPaths;
import dev.salvo.io.Plots;
import dev.salvo.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code salvo plot RUN...}: the loss and accuracy curves of several runs on one chart. */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw the loss and validation-accuracy curves of one or more run folders on one chart (PNG).",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE})
final class PlotCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN", description = "Run folders (or their metrics.csv).")
    List<Path> runs;

    @Option(names = {"-o", "--output"}, defaultValue = "curves.png", description = "PNG to write. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Option(names = "--title", defaultValue = "training runs", description = "Chart title. Default: ${DEFAULT-VALUE}.")
    String title;

    @Override
    public Integer call() throws IOException {
        OutputPaths.file("--output", output);
        if (!RunFolder.plottingAvailable()) {
            throw new IllegalArgumentException("salvo plot needs the java.desktop module, which this Java runtime lacks");
        }
        List<Plots.Series> series = new ArrayList<>();
        for (Path r : runs) {
            Plots.Series s = RunFolder.read(r);
            if (s.epoch().length == 0) {
                Path file = Files.isDirectory(r) ? r.resolve(RunFolder.METRICS) : r;
                throw new IllegalArgumentException(file + ": no epochs yet (only the header line); nothing to plot");
            }
            series.add(s);
        }
        Plots.curves(series, output, title);
        spec.commandLine().getOut().println("wrote " + output + " (" + series.size() + " run" + (series.size() == 1 ? "" : "s") + ")");
        return 0;
    }
}
