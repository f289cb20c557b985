package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.util.InputFiles;
import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.ParseResult;

/** {@code salvo train --net FILE}: the network JSON, read and checked before any data or device. */
final class NetFiles {

    /** Larger than any sensible network description. */
    private static final long MAX_BYTES = 1 << 20;

    private NetFiles() {
    }

    /** Reads and builds the network; every problem is one line naming the file and the field. */
    static NetworkSpec read(Path file, ParseResult given) {
        for (String o : new String[] {"--layers", "--activation", "--loss", "--init"}) {
            if (given.hasMatchedOption(o)) {
                throw new IllegalArgumentException("--net and " + o + " cannot be combined: the network file says it");
            }
        }
        InputFiles.requireFile("--net", file);
        String text;
        try {
            if (Files.size(file) > MAX_BYTES) {
                throw new IllegalArgumentException("--net " + file + ": " + Files.size(file) + " bytes, more than a network"
                        + " description needs (at most " + MAX_BYTES + ")");
            }
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IllegalArgumentException("--net " + file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException("--net " + file + ": cannot read: " + e.getMessage());
        }
        try {
            return NetworkJson.parse(text);
        } catch (NetworkSpec.Invalid e) {
            throw new IllegalArgumentException("--net " + file + ": " + e.getMessage());
        }
    }

    /** Checks the network against the data: its input size equals the features, its output the classes. */
    static NetworkSpec fit(Path file, NetworkSpec net, Dataset train, String data) {
        if (net.inputs() != train.width()) {
            throw new IllegalArgumentException("--net " + file + ": input " + NetworkSpec.shapeText(net.inputShape(), ",") + " holds "
                    + net.inputs() + " values per sample, but " + data + " has " + train.width() + " features");
        }
        if (net.outputs() != train.classes()) {
            throw new IllegalArgumentException("--net " + file + ": the last layer has " + net.outputs() + " outputs, but " + data
                    + " has " + train.classes() + " classes");
        }
        return net;
    }
}
