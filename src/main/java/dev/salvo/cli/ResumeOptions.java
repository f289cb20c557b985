package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.Optimizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The rule of {@code salvo train --resume} for every option (the README's table): what a
 * checkpoint keeps of the command line that trained it ({@link #of}: the options' values in a
 * canonical form, plus the run folder and a fingerprint of the data), and how a resumed run takes
 * them back ({@link #restore}): omitted ones are restored, {@link #RESTORED} ones given with
 * another value are an error, {@link #RESTORED_OR_CHANGED} ones may change.
 */
final class ResumeOptions {

    /** Options a resumed run takes from its checkpoint; given on the command line, they must be equal to it. */
    static final List<String> RESTORED = List.of("--data", "--label-column", "--header", "--test-fraction", "--normalize",
            "--val-fraction", "--layers", "--net", "--activation", "--loss", "--init", "--optimizer", "--lr", "--momentum",
            "--weight-decay", "--schedule", "--warmup", "--lr-step-epochs", "--lr-gamma", "--lr-min-factor",
            "--batch-size", "--seed", "--patience", "--gpt", "--context", "--eval-every", "--eval-windows", "--beta1", "--beta2",
            "--eps", "--clip-norm", "--decay-params");
    /** Options a resumed run takes from its checkpoint when not given, and that may change. */
    static final List<String> RESTORED_OR_CHANGED = List.of("--epochs", "--data-dir", "--checkpoint-every", "--steps");
    static final String OPTION_KEY = "option:";
    static final String RUN_DIR_KEY = "run_dir";
    static final String DATA_KEY = "data_sha256";

    private ResumeOptions() {
    }

    /**
     * Takes the options of a resumed run from its checkpoint: each one of {@link #RESTORED} and
     * {@link #RESTORED_OR_CHANGED} not given on the command line gets the checkpoint's value; one
     * of {@link #RESTORED} given with another value is an error. Returns the restored options as
     * {@code --name value} words, for the one line that says so.
     */
    static List<String> restore(CommandSpec spec, Checkpoint.Snapshot s) {
        List<String> words = new ArrayList<>();
        picocli.CommandLine.ParseResult given = spec.commandLine().getParseResult();
        for (String name : concat(RESTORED, RESTORED_OR_CHANGED)) {
            String stored = s.info().get(OPTION_KEY + name);
            if (stored == null) {
                continue; // a checkpoint written without its options (the Java API)
            }
            OptionSpec o = spec.findOption(name);
            if (given.hasMatchedOption(o)) {
                String now = canonical(name, o.getValue());
                if (RESTORED.contains(name) && !now.equals(stored) && !sameOptimizer(spec, name, s)) {
                    throw new IllegalArgumentException("--resume: " + name + " " + (now.isEmpty() ? "(default)" : now)
                            + " differs from the checkpoint's " + (stored.isEmpty() ? "(default)" : stored)
                            + "; a resumed run keeps its options (start a new run to change it)");
                }
            } else {
                Object value = parseStored(o, stored);
                o.setValue(value);
                Object byDefault = o.defaultValue() == null ? null : parseStored(o, canonical(name, o.defaultValue()));
                if (value != null && !value.equals(byDefault)) {
                    words.add(name + " " + stored);
                }
            }
        }
        return words;
    }

    /** True when {@code --momentum}/{@code --weight-decay} as given make the same optimizer as the checkpoint's options. */
    private static boolean sameOptimizer(CommandSpec spec, String name, Checkpoint.Snapshot s) {
        if (!name.equals("--momentum") && !name.equals("--weight-decay")) {
            return false;
        }
        Map<String, String> i = s.info();
        try {
            String kind = i.getOrDefault(OPTION_KEY + "--optimizer", spec.findOption("--optimizer").getValue());
            Double momentum = spec.findOption("--momentum").getValue();
            Double weightDecay = spec.findOption("--weight-decay").getValue();
            Double m = nullableDouble(i.get(OPTION_KEY + "--momentum"));
            Double wd = nullableDouble(i.get(OPTION_KEY + "--weight-decay"));
            Optimizer stored = Optimizer.parse(kind, m, wd);
            Optimizer now = Optimizer.parse(kind, name.equals("--momentum") ? momentum : m, name.equals("--weight-decay") ? weightDecay : wd);
            return stored.describe().equals(now.describe());
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static Double nullableDouble(String v) {
        return v == null || v.isEmpty() ? null : Double.valueOf(v);
    }

    /** The values of every option a checkpoint keeps, in their canonical form. */
    static Map<String, String> of(CommandSpec spec) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String name : concat(RESTORED, RESTORED_OR_CHANGED)) {
            m.put(OPTION_KEY + name, canonical(name, spec.findOption(name).getValue()));
        }
        return m;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** One string per option value: lists joined by commas, paths absolute, a CSV --data with its absolute path. */
    static String canonical(String name, Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder();
            for (Object o : l) {
                sb.append(sb.length() == 0 ? "" : ",").append(o);
            }
            return sb.toString();
        }
        if (v instanceof Path p) {
            return p.toAbsolutePath().normalize().toString();
        }
        if (name.equals("--data")) {
            String d = v.toString().trim();
            String path = d.startsWith("csv:") ? d.substring(4) : d;
            if (d.startsWith("text:")) {
                return "text:" + Path.of(d.substring(5)).toAbsolutePath().normalize();
            }
            if (d.startsWith("csv:") || path.endsWith(".csv") || path.endsWith(".csv.gz")) {
                return "csv:" + Path.of(path).toAbsolutePath().normalize();
            }
            return d;
        }
        return v.toString();
    }

    /** The typed value of option {@code o} from its canonical string. */
    private static Object parseStored(OptionSpec o, String v) {
        Class<?> t = o.type();
        if (v.isEmpty() && !t.isPrimitive()) { // "" stands for an option left unset
            return null;
        }
        if (t == String.class) {
            return v;
        }
        if (t == double.class || t == Double.class) {
            return Double.valueOf(v);
        }
        if (t == int.class || t == Integer.class) {
            return Integer.valueOf(v);
        }
        if (t == long.class || t == Long.class) {
            return Long.valueOf(v);
        }
        if (t == boolean.class || t == Boolean.class) {
            return Boolean.valueOf(v);
        }
        if (t == Path.class) {
            return Path.of(v);
        }
        if (List.class.isAssignableFrom(t)) {
            List<Integer> l = new ArrayList<>();
            for (String w : v.split(",")) {
                l.add(Integer.valueOf(w.trim()));
            }
            return l;
        }
        throw new IllegalStateException("no way to restore option " + o.longestName() + " of type " + t);
    }

    /** SHA-256 of the training and validation rows (features and labels): a resume must see the same data. */
    static String fingerprint(Dataset train, Dataset val) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Dataset d : new Dataset[] {train, val}) {
                buf.clear();
                buf.putInt(d.rows()).putInt(d.width()).putInt(d.classes());
                md.update(buf.array(), 0, buf.position());
                float[] f = d.features();
                int n = d.rows() * d.width();
                for (int i = 0; i < n; ) {
                    buf.clear();
                    int k = Math.min(n - i, buf.capacity() / 4);
                    buf.asFloatBuffer().put(f, i, k);
                    md.update(buf.array(), 0, 4 * k);
                    i += k;
                }
                int[] y = d.labels();
                for (int i = 0; i < d.rows(); ) {
                    buf.clear();
                    int k = Math.min(d.rows() - i, buf.capacity() / 4);
                    buf.asIntBuffer().put(y, i, k);
                    md.update(buf.array(), 0, 4 * k);
                    i += k;
                }
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
