package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.salvo.io.SafeTensors.Contents;
import dev.salvo.io.SafeTensors.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks files against Python. With the reference {@code safetensors} package importable by
 * {@code python3}, it loads the file Java wrote and Java loads a file it wrote; without it that
 * test is skipped with the reason. A second test uses only the Python standard library: an
 * independent decoder written from the format description (not the reference, but a second
 * reading of the spec, including the padding rule), run whenever {@code python3} exists.
 */
class SafeTensorsInteropTest {

    @TempDir
    Path dir;

    private record Result(int rc, String out) {}

    private static Result python(String script, String... args) {
        List<String> cmd = new ArrayList<>(List.of("python3", "-c", script));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            return new Result(-1, "cannot run python3: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines[lines.length - 1];
    }

    private static List<Tensor> sample() {
        float[] w = new float[6];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i - 2.5f) / 3f;
        }
        w[4] = Float.NaN;
        w[5] = Float.NEGATIVE_INFINITY;
        return List.of(
                new Tensor("layers.0.weight", new int[] {2, 3}, w),
                new Tensor("layers.0.bias", new int[] {2}, new float[] {0.5f, -1e-30f}),
                new Tensor("empty", new int[] {0, 4}, new float[0]),
                new Tensor("layers.1.weight", new int[] {1, 2}, new float[] {3.25f, Float.MAX_VALUE}));
    }

    private static Map<String, String> sampleMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", "pt");
        m.put("salvo.spec", "dense 2 relu, dense 1");
        m.put("ünï", "✓ \"quoted\"");
        return m;
    }

    /** One line per tensor: name|shape|float32 bits in hex; metadata lines first, sorted. */
    private static String describe(Map<String, String> metadata, List<Tensor> tensors) {
        StringBuilder sb = new StringBuilder();
        metadata.entrySet().stream().sorted(Map.Entry.comparingByKey())
                .forEach(e -> sb.append("meta|").append(e.getKey()).append('|').append(e.getValue()).append('\n'));
        for (Tensor t : tensors) {
            sb.append(t.name()).append('|');
            for (int i = 0; i < t.shape().length; i++) {
                sb.append(i == 0 ? "" : ",").append(t.shape()[i]);
            }
            sb.append('|');
            for (int i = 0; i < t.data().length; i++) {
                sb.append(i == 0 ? "" : ",").append(String.format("%08x", Float.floatToRawIntBits(t.data()[i])));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static final String PRINT = String.join("\n",
            "def show(meta, tensors):",
            "    import sys",
            "    out = []",
            "    for k in sorted(meta): out.append('meta|%s|%s' % (k, meta[k]))",
            "    for name, shape, bits in tensors:",
            "        out.append('%s|%s|%s' % (name, ','.join(str(d) for d in shape), ','.join('%08x' % b for b in bits)))",
            "    sys.stdout.buffer.write(('\\n'.join(out) + '\\n').encode('utf-8'))",
            "");

    @Test
    void referenceLibraryReadsJavaFileAndJavaReadsItsFile() {
        Result has = python("import safetensors.numpy, numpy; print(getattr(safetensors, '__version__', '?'))");
        Result torch = python("import torch");
        assumeTrue(has.rc() == 0, "skipped: python3 cannot import safetensors (with numpy): " + lastLine(has.out())
                + (torch.rc() == 0 ? "; torch is importable but has no safetensors reader of its own" : "; torch is not importable either"));

        Path javaFile = dir.resolve("from-java.safetensors");
        SafeTensors.write(javaFile, sampleMetadata(), sample());
        String load = PRINT + String.join("\n",
                "import sys, numpy",
                "from safetensors import safe_open",
                "ts = []",
                "with safe_open(sys.argv[1], framework='numpy') as f:",
                "    meta = f.metadata() or {}",
                "    for k in f.keys():",
                "        a = f.get_tensor(k)",
                "        assert a.dtype == numpy.float32, a.dtype",
                "        ts.append((k, a.shape, a.reshape(-1).view(numpy.uint32).tolist()))",
                "order = {n: i for i, n in enumerate(sys.argv[2].split(','))}",
                "ts.sort(key=lambda t: order[t[0]])",
                "show(meta, ts)");
        String names = String.join(",", sample().stream().map(Tensor::name).toList());
        Result r = python(load, javaFile.toString(), names);
        assertEquals(0, r.rc(), r.out());
        assertEquals(describe(sampleMetadata(), sample()), r.out());

        Path pyFile = dir.resolve("from-python.safetensors");
        String save = String.join("\n",
                "import sys, numpy",
                "from safetensors.numpy import save_file",
                "save_file({'b': numpy.array([[1.5, -2.0]], dtype=numpy.float32),",
                "           'a': numpy.array([0.1, 1e300], dtype=numpy.float64),",
                "           'z': numpy.zeros((0, 3), dtype=numpy.float32)}, sys.argv[1], metadata={'k': 'v'})");
        Result w = python(save, pyFile.toString());
        assertEquals(0, w.rc(), w.out());
        Contents c = SafeTensors.read(pyFile);
        assertEquals(Map.of("k", "v"), c.metadata());
        assertArrayEquals(new float[] {1.5f, -2f}, c.get("b").data());
        assertArrayEquals(new int[] {1, 2}, c.get("b").shape());
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY}, c.get("a").data());
        assertArrayEquals(new int[] {0, 3}, c.get("z").shape());
    }

    @Test
    void independentStdlibDecoderReadsJavaFile() {
        Result has = python("import json, struct");
        assumeTrue(has.rc() == 0, "skipped: no usable python3: " + lastLine(has.out()));
        Path f = dir.resolve("m.safetensors");
        SafeTensors.write(f, sampleMetadata(), sample());
        String decode = PRINT + String.join("\n",
                "import sys, json, struct",
                "b = open(sys.argv[1], 'rb').read()",
                "(n,) = struct.unpack('<Q', b[:8])",
                "assert n % 8 == 0, 'header not padded to 8: %d' % n",
                "text = b[8:8 + n].decode('utf-8')",
                "assert text == text.rstrip(' ') + ' ' * (len(text) - len(text.rstrip(' '))), 'padding is not spaces'",
                "h = json.loads(text)",
                "meta = h.pop('__metadata__', {})",
                "data = b[8 + n:]",
                "ts, end = [], 0",
                "for name, e in h.items():  # json keeps file order; the writer writes in offset order",
                "    assert e['dtype'] == 'F32'",
                "    s, t = e['data_offsets']",
                "    assert s == end, (name, s, end)",
                "    count = 1",
                "    for d in e['shape']: count *= d",
                "    assert t - s == 4 * count",
                "    ts.append((name, e['shape'], struct.unpack('<%dI' % count, data[s:t])))",
                "    end = t",
                "assert end == len(data), 'data section not covered'",
                "show(meta, ts)");
        Result r = python(decode, f.toString());
        assertEquals(0, r.rc(), r.out());
        assertEquals(describe(sampleMetadata(), sample()), r.out());
        assertTrue(r.out().contains("layers.0.weight|2,3|"));
    }
}
