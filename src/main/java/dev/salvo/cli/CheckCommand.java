package dev.salvo.cli;

import dev.salvo.check.ConsistencyCheck;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceInfo;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.Devices;
import dev.salvo.device.Probe;
import dev.salvo.io.OutputPaths;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo check}: every op and short training runs of each device against the float64 reference. */
@Command(name = "check", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Check every op and a short training run of each device against the float64 reference.",
                "Ops must stay within the design document's bounds (elementwise 1e-5 + 1.3e-6 |ref|; sums over K terms "
                        + "2 gamma(K) (|A||B|)_ij and a normwise bound; see src/site/markdown/design.md); training "
                        + "must start from the same initial SHA-256, keep every per-step loss within 1e-3 relative over "
                        + "20 steps and end within 0.5 points of accuracy. Each line shows the element with the largest "
                        + "error/bound ratio. Run it after installing a driver or dropping in a tuned kernel."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.CHECK_FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class CheckCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--device", split = ",", description = "Devices to check (default: every available device but the reference), e.g. cpu,opencl:0.")
    List<String> devices;

    @Option(names = "--json", description = "Also write the results as JSON to this file.")
    Path json;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the random inputs. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        List<String> targets = devices != null ? devices : available();
        if (json != null) {
            OutputPaths.file("--json", json);
        }
        for (String t : targets) {
            Devices.Selector.parse(t); // a malformed or unknown name is bad input before anything runs
        }
        List<ConsistencyCheck.Result> all = new ArrayList<>();
        Map<String, String> names = new LinkedHashMap<>();
        for (String t : targets) {
            Devices.Selection sel;
            long t0 = System.nanoTime();
            try {
                sel = Devices.open(t);
            } catch (DeviceException.KernelCompile e) {
                // a kernel that does not compile fails this device; the others are still checked
                failed(out, all, names, t, "build kernels", Path.of(e.file()).getFileName().toString(), e.getMessage(), t0);
                continue;
            } catch (DeviceException.Unavailable e) {
                if (devices != null) {
                    throw e; // a device named explicitly that is not there: exit 3
                }
                failed(out, all, names, t, "open", "", e.getMessage(), t0);
                continue;
            } catch (DeviceException | IllegalArgumentException e) {
                failed(out, all, names, t, "open", "", e.getMessage(), t0);
                continue;
            }
            try (Device d = sel.device()) {
                names.put(d.info().id(), d.info().name());
                out.printf("== %s (%s)%n", d.info().id(), d.info().name());
                out.printf("%-36s %-40s %12s %12s %-5s %9s%n", "check", "shape", "worst error", "its bound", "", "ms");
                out.flush();
                for (ConsistencyCheck.Result r : new ConsistencyCheck(d, seed).run()) {
                    all.add(r);
                    out.printf(Locale.ROOT, "%-36s %-40s %12.3e %12.3e %-5s %9.1f%n", r.check(), r.shape(), r.error(), r.bound(),
                            r.pass() ? "pass" : "FAIL", r.millis());
                    if (!r.pass()) {
                        out.println("    " + r.detail());
                    }
                    out.flush();
                }
            }
        }
        long failed = all.stream().filter(r -> !r.pass()).count();
        out.printf("%d checks on %d device(s): %d passed, %d failed%n", all.size(), targets.size(), all.size() - failed, failed);
        if (json != null) {
            write(json, targets, names, all, failed);
            out.println("wrote " + json);
        }
        return failed == 0 ? 0 : 1;
    }

    /** Prints and records a device that failed before its checks could run (its kernels did not build, say). */
    private static void failed(PrintWriter out, List<ConsistencyCheck.Result> all, Map<String, String> names, String target,
                               String check, String shape, String detail, long t0) {
        double ms = (System.nanoTime() - t0) / 1e6;
        Devices.Selector sel = Devices.Selector.parse(target);
        String id = sel.provider() + ":" + Math.max(0, sel.index());
        String name = nameOf(id);
        names.put(id, name);
        out.printf("== %s (%s)%n", id, name);
        out.printf("%-36s %-40s %12s %12s %-5s %9s%n", "check", "shape", "worst error", "its bound", "", "ms");
        out.printf(Locale.ROOT, "%-36s %-40s %12s %12s %-5s %9.1f%n", check, shape, "-", "-", "FAIL", ms);
        for (String line : detail.strip().split("\n")) {
            out.println("    " + line);
        }
        out.flush();
        all.add(new ConsistencyCheck.Result(id, check, shape, Double.NaN, Double.NaN, false, ms, detail.strip()));
    }

    private static String nameOf(String id) {
        try {
            for (Probe p : Devices.probeAll()) {
                for (DeviceInfo d : p.devices()) {
                    if (d.id().equals(id)) {
                        return d.name();
                    }
                }
            }
        } catch (RuntimeException e) {
            // no name
        }
        return "not opened";
    }

    private static List<String> available() {
        List<String> ids = new ArrayList<>();
        for (Probe p : Devices.probeAll()) {
            for (DeviceInfo d : p.devices()) {
                if (d.kind() != DeviceKind.REFERENCE) {
                    ids.add(d.id());
                }
            }
        }
        return ids;
    }

    private static void write(Path file, List<String> targets, Map<String, String> names, List<ConsistencyCheck.Result> results,
                              long failed) {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("tool", "salvo check");
        doc.put("time", Instant.now().toString());
        doc.put("java", Runtime.version().toString());
        doc.put("devices", names);
        doc.put("requested", targets);
        doc.put("passed", failed == 0);
        doc.put("results", results);
        try {
            Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("--json: cannot write " + file + ": " + e.getMessage(), e);
        }
    }
}
