package dev.salvo.cli;

import dev.salvo.check.ConsistencyCheck;
import dev.salvo.device.DeviceException;
import dev.salvo.device.DeviceKind;
import dev.salvo.device.DeviceProvider;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.io.AtomicFile;
import dev.salvo.util.InputFiles;
import dev.salvo.io.OutputPaths;
import dev.salvo.kernel.KernelBench;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.kernel.NativeConfig;
import dev.salvo.kernel.TunableProvider;
import dev.salvo.kernel.TuningTable.Tuning;
import dev.salvo.kernel.TuningTable;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code salvo tune}: searches the kernel tunables of one device (matmul variant, work-group shape,
 * register blocks and vector width; the work-groups of the elementwise, row and sum kernels; the
 * column-sum vector width), one group of tunables after the other, starting from the device's
 * current tuning-table row. Every candidate is built, then validated with every op check of
 * {@code salvo check} against the float64 {@code ReferenceOps} (the bounds of src/site/markdown/design.md) before it is
 * timed; a candidate that fails to build or to validate is rejected with the reason. Within a
 * group the current values are timed in the same run, and a candidate replaces them only when it
 * is at least {@value #MARGIN_PERCENT}% faster, so the tuned row is never slower than the one it
 * replaces. The winners are written as the device's row of the provider's tuning table
 * ({@code opencl-tuning.csv} / {@code cuda-tuning.csv}), keeping the other rows and the {@code *}
 * default, atomically.
 */
@Command(name = "tune", mixinStandardHelpOptions = true,
        description = "Search kernel tunables on a device, validate each candidate against the float64 reference, "
                + "time it, and write the winners into the device's tuning-table row.",
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE})
final class TuneCommand implements Callable<Integer> {

    static final int MARGIN_PERCENT = 3;

    @Spec
    CommandSpec spec;

    @Option(names = "--device", defaultValue = "opencl:0", description = "opencl[:N] or cuda[:N] (default ${DEFAULT-VALUE})")
    String device;

    @Option(names = "--out", description = "tuning table to write (default: <SALVO_NATIVE_CONFIG>/<provider>-tuning.csv); "
            + "its other rows are kept")
    Path out;

    @Option(names = "--quick", description = "fewer candidates, smaller sizes, fewer samples (how long it takes depends on the device: see the README)")
    boolean quick;

    @Option(names = "--only", split = ",", description = "search only these groups (matmul.kind, matmul.wg, matmul.blocks, "
            + "matmul.dot, wg.elementwise, wg.rows, colsum.vw, sum.wg)")
    List<String> only;

    @Option(names = "--samples", description = "timing samples per candidate (default 5, 3 with --quick)")
    Integer samples;

    /** One search group: the columns it varies, what it times, and its candidate values. */
    private record Group(String name, String unit, List<String> columns, List<int[]> values,
                         Function<KernelDevice, KernelBench.Rate> bench) {
    }

    private record Line(String group, String candidate, String rate, String valid, String chosen) {
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter pw = spec.commandLine().getOut();
        Devices.Selector sel = Devices.Selector.parse(device);
        DeviceProvider provider = Devices.providers().stream().filter(p -> p.name().equals(sel.provider())).findFirst()
                .orElse(null);
        if (!(provider instanceof TunableProvider tp)) {
            throw new IllegalArgumentException("--device must name an opencl or cuda device (opencl[:N], cuda[:N]), got '"
                    + device + "'");
        }
        if (samples != null && (samples < 1 || samples > 101)) {
            throw new IllegalArgumentException("--samples must be between 1 and 101, got " + samples);
        }
        int nSamples = samples != null ? samples : quick ? 3 : 5;
        int index = Math.max(0, sel.index());
        String file = tp.tuningFile();
        Path target = out;
        if (target == null) {
            Path dir = NativeConfig.overrideDir();
            if (dir == null) {
                throw new IllegalArgumentException("give --out FILE, or set SALVO_NATIVE_CONFIG to a directory: the tuning table "
                        + "in the jar cannot be rewritten");
            }
            target = dir.resolve(file);
        }
        if (Files.isDirectory(target)) {
            throw new IllegalArgumentException("--out " + target + " is a directory; expected a file such as " + target.resolve(file));
        }
        OutputPaths.file("--out", target);
        List<String> base = Files.isRegularFile(target) ? InputFiles.readText("--out", target).lines().toList() : TuningTable.lines(file);
        String where = Files.isRegularFile(target) ? target.toString() : NativeConfig.describe(file);
        TuningTable.parse(where, base); // a malformed table stops here, before any work

        Tuning current;
        String name;
        DeviceKind kind;
        try (KernelDevice d = tp.openTuned(index, null)) {
            name = d.info().name();
            kind = d.info().kind();
            current = rowFor(where, base, name);
        }
        String glob = name.replace(',', '?');
        pw.printf("tune: %s:%d (%s), %s, starting from %s%n", sel.provider(), index, name, quick ? "quick" : "full",
                current.row());
        pw.printf("tune: every candidate is validated against the float64 reference (salvo check's op checks) before timing%n");

        List<Group> groups = groups(kind, nSamples);
        if (only != null) {
            List<String> known = groups.stream().map(Group::name).toList();
            for (String o : only) {
                if (!known.contains(o)) {
                    throw new IllegalArgumentException("--only: unknown group '" + o + "' (expected " + String.join(", ", known) + ")");
                }
            }
            groups = groups.stream().filter(x -> only.contains(x.name())).toList();
        }
        List<Line> lines = new ArrayList<>();
        for (Group g : groups) {
            Set<String> seen = new LinkedHashSet<>();
            Tuning best = current;
            KernelBench.Rate bestRate = null;
            String baseLabel = label(g, current);
            List<Tuning> candidates = new ArrayList<>();
            candidates.add(current);
            seen.add(baseLabel);
            for (int[] v : g.values()) {
                Tuning t = current;
                try {
                    for (int i = 0; i < v.length; i++) {
                        t = t.with(g.columns().get(i), v[i]);
                    }
                } catch (IllegalArgumentException e) {
                    lines.add(new Line(g.name(), describe(g, v), "-", "rejected: " + e.getMessage(), ""));
                    continue;
                }
                if (seen.add(label(g, t))) {
                    candidates.add(t);
                }
            }
            KernelBench.Rate baseRate = null;
            List<Line> groupLines = new ArrayList<>();
            for (Tuning t : candidates) {
                String lab = label(g, t) + (t == current ? " (current)" : "");
                pw.printf("  %-16s %-40s ", g.name(), lab);
                pw.flush();
                KernelBench.Rate r;
                try (KernelDevice d = tp.openTuned(index, t.withRow("candidate"))) {
                    String problem = validate(d);
                    if (problem != null) {
                        pw.println("rejected: " + problem);
                        groupLines.add(new Line(g.name(), lab, "-", "rejected: " + problem, ""));
                        continue;
                    }
                    r = g.bench().apply(d);
                } catch (DeviceException | IllegalArgumentException e) {
                    String why = firstLine(e.getMessage());
                    pw.println("rejected: " + why);
                    groupLines.add(new Line(g.name(), lab, "-", "rejected: " + why, ""));
                    continue;
                }
                pw.printf(Locale.ROOT, "%s %s%n", r.cell(), g.unit());
                groupLines.add(new Line(g.name(), lab, r.cell() + " " + g.unit(), "yes", ""));
                if (t == current) {
                    baseRate = r;
                    bestRate = r;
                } else if (baseRate == null || r.median() > baseRate.median() * (1 + MARGIN_PERCENT / 100.0)) {
                    if (bestRate == null || r.median() > bestRate.median()) {
                        best = t;
                        bestRate = r;
                    }
                }
            }
            if (baseRate == null && best == current) {
                throw new IllegalStateException("the current tuning failed on " + name + " in group " + g.name()
                        + " and no candidate passed; see the reasons above");
            }
            String winner = label(g, best) + (best == current ? " (current)" : "");
            for (Line l : groupLines) {
                lines.add(l.candidate().equals(winner) ? new Line(l.group(), l.candidate(), l.rate(), l.valid(), "<- chosen") : l);
            }
            current = best;
        }

        pw.println();
        pw.printf("%-16s %-42s %-26s %-10s %s%n", "group", "candidate", "rate", "valid", "chosen");
        for (Line l : lines) {
            pw.printf("%-16s %-42s %-26s %-10s %s%n", l.group(), l.candidate(), l.rate(), l.valid(), l.chosen());
        }
        List<String> updated = TuningTable.withRow(where, base, glob, current);
        if (target.getParent() != null) {
            Files.createDirectories(target.getParent());
        }
        AtomicFile.write(target, (String.join("\n", updated) + "\n").getBytes(StandardCharsets.UTF_8));
        pw.println();
        pw.println("tune: wrote " + target + ": " + current.csv(glob));
        return 0;
    }

    private static Tuning rowFor(String where, List<String> lines, String deviceName) {
        for (TuningTable.Row r : TuningTable.parse(where, lines)) {
            if (globMatches(r.glob(), deviceName)) {
                return r.tuning();
            }
        }
        return Tuning.DEFAULT;
    }

    private static boolean globMatches(String glob, String name) {
        StringBuilder sb = new StringBuilder();
        for (char c : glob.toCharArray()) {
            sb.append(c == '*' ? ".*" : c == '?' ? "." : java.util.regex.Pattern.quote(String.valueOf(c)));
        }
        return name.matches(sb.toString());
    }

    /** Null when every op check passes on {@code d}, else the first failure. */
    private static String validate(KernelDevice d) {
        for (ConsistencyCheck.Result r : new ConsistencyCheck(d, 1).runOps()) {
            if (!r.pass()) {
                return r.check() + " " + r.shape() + ": " + firstLine(r.detail());
            }
        }
        return null;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "(no message)";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    private static String label(Group g, Tuning t) {
        StringBuilder sb = new StringBuilder();
        for (String c : g.columns()) {
            sb.append(sb.length() == 0 ? "" : " ").append(c.replaceFirst("^[a-z]+\\.", "")).append('=').append(t.get(c));
        }
        return sb.toString();
    }

    private static String describe(Group g, int[] v) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : " ").append(g.columns().get(i).replaceFirst("^[a-z]+\\.", "")).append('=').append(v[i]);
        }
        return sb.toString();
    }

    private List<Group> groups(DeviceKind kind, int nSamples) {
        double minMs = quick ? 40 : 100;
        List<Gemm> cases = new ArrayList<>(List.of(new Gemm(128, 512, 784, false, true), new Gemm(128, 784, 512, false, false),
                new Gemm(512, 784, 128, true, false)));
        if (!quick) {
            cases.add(new Gemm(512, 512, 512, false, false));
            cases.add(new Gemm(512, 512, 512, false, true));
            cases.add(new Gemm(512, 512, 512, true, false));
        }
        Function<KernelDevice, KernelBench.Rate> mm = d -> combined(cases.stream().map(g -> g.flops()).toList(),
                cases.stream().map(g -> KernelBench.matmul(d, g, nSamples, minMs)).toList());
        int n = quick ? 1 << 20 : 1 << 22;
        Function<KernelDevice, KernelBench.Rate> elementwise = d -> combined(List.of(28.0, 12.0),
                List.of(KernelBench.memory(d, KernelBench.MemoryOp.ADAM, n, nSamples, minMs),
                        KernelBench.memory(d, KernelBench.MemoryOp.ACT_BACKWARD, n, nSamples, minMs)));
        Function<KernelDevice, KernelBench.Rate> rows = d -> combined(List.of(8.8, 4.0),
                List.of(KernelBench.memory(d, KernelBench.MemoryOp.SOFTMAX_XENT, n, nSamples, minMs),
                        KernelBench.memory(d, KernelBench.MemoryOp.COLUMN_SUMS, n, nSamples, minMs)));
        Function<KernelDevice, KernelBench.Rate> colsums = d -> KernelBench.memory(d, KernelBench.MemoryOp.COLUMN_SUMS, n, nSamples, minMs);
        Function<KernelDevice, KernelBench.Rate> sum = d -> KernelBench.memory(d, KernelBench.MemoryOp.SUM, n, nSamples, minMs);
        boolean gpu = kind == DeviceKind.GPU;
        List<Group> g = new ArrayList<>();
        List<int[]> kinds = new ArrayList<>();
        kinds.add(new int[] {1, 16});
        kinds.add(new int[] {0, 16});
        if (!quick || gpu) {
            kinds.add(new int[] {1, 8});
            kinds.add(new int[] {1, 32});
        }
        g.add(new Group("matmul.kind", "GFLOP/s", List.of("matmul.local", "matmul.tile"), kinds, mm));
        List<int[]> wg = quick ? List.of(new int[] {1, 8}, new int[] {1, 16}, new int[] {2, 4})
                : List.of(new int[] {1, 4}, new int[] {1, 8}, new int[] {1, 16}, new int[] {2, 4}, new int[] {4, 4},
                new int[] {2, 8}, new int[] {16, 4}, new int[] {16, 16});
        g.add(new Group("matmul.wg", "GFLOP/s", List.of("matmul.wgx", "matmul.wgy"), wg, mm));
        List<int[]> outer = quick ? List.of(new int[] {16, 6, 32}, new int[] {8, 4, 16})
                : List.of(new int[] {16, 4, 32}, new int[] {16, 6, 32}, new int[] {16, 4, 16}, new int[] {16, 8, 16},
                new int[] {8, 4, 16}, new int[] {8, 8, 16}, new int[] {4, 4, 8}, new int[] {4, 8, 4}, new int[] {1, 4, 4});
        g.add(new Group("matmul.blocks", "GFLOP/s", List.of("matmul.vw", "matmul.wptm", "matmul.wptn"), outer, mm));
        List<int[]> dot = quick ? List.of(new int[] {8, 2}, new int[] {2, 8})
                : List.of(new int[] {4, 4}, new int[] {8, 2}, new int[] {2, 8}, new int[] {2, 4}, new int[] {4, 2}, new int[] {6, 4});
        g.add(new Group("matmul.dot", "GFLOP/s", List.of("matmul.dotm", "matmul.dotn"), dot, mm));
        List<int[]> ew = quick ? List.of(new int[] {64}, new int[] {1024})
                : List.of(new int[] {32}, new int[] {64}, new int[] {128}, new int[] {256}, new int[] {512}, new int[] {1024});
        g.add(new Group("wg.elementwise", "GB/s", List.of("wg.elementwise"), ew, elementwise));
        List<int[]> rw = quick ? List.of(new int[] {16}, new int[] {256})
                : List.of(new int[] {8}, new int[] {16}, new int[] {32}, new int[] {64}, new int[] {128}, new int[] {256});
        g.add(new Group("wg.rows", "GB/s", List.of("wg.rows"), rw, rows));
        List<int[]> cv = quick ? List.of(new int[] {1}, new int[] {16})
                : List.of(new int[] {1}, new int[] {4}, new int[] {8}, new int[] {16});
        g.add(new Group("colsum.vw", "GB/s", List.of("colsum.vw"), cv, colsums));
        List<int[]> sw = quick ? List.of(new int[] {64}) : List.of(new int[] {32}, new int[] {64}, new int[] {128},
                new int[] {512}, new int[] {1024});
        g.add(new Group("sum.wg", "GB/s", List.of("sum.wg"), sw, sum));
        return g;
    }

    /** The rate of doing every part once: total work over the sum of the parts' times. */
    private static KernelBench.Rate combined(List<Double> work, List<KernelBench.Rate> rates) {
        double total = 0;
        double tMed = 0;
        double tMin = 0;
        double tMax = 0;
        for (int i = 0; i < work.size(); i++) {
            double w = work.get(i);
            total += w;
            tMed += w / rates.get(i).median();
            tMin += w / rates.get(i).max();
            tMax += w / rates.get(i).min();
        }
        return new KernelBench.Rate(total / tMed, total / tMax, total / tMin);
    }
}
