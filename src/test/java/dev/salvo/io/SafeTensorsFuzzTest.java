package dev.salvo.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.io.SafeTensors.Contents;
import dev.salvo.io.SafeTensors.Tensor;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded mutation fuzzing of {@link SafeTensors#read}: valid files get bytes flipped in the header
 * and the data, are truncated, get a different length prefix, have JSON fragments spliced into the
 * header, or have a node of the parsed header replaced by another JSON value (then re-serialised
 * with a matching length, so the semantic checks are reached). Only {@link SafeTensorsException}
 * may come out; files that are accepted must be self-consistent and survive a write/read round
 * trip. Reproduce with {@code -Dsalvo.fuzz.seed=...} and {@code -Dsalvo.fuzz.iterations=...}.
 */
class SafeTensorsFuzzTest {

    private static final long SEED = Long.getLong("salvo.fuzz.seed", 0x5AFE7E5L);
    private static final int ITERATIONS = Integer.getInteger("salvo.fuzz.iterations", 16000);

    private static final ObjectMapper JSON = new ObjectMapper();

    private static final String[] FRAGMENTS = {
        "\"", "{", "}", "[", "]", ",", ":", "null", "true", "-1", "0", "1.5", "1e400", "-0",
        "18446744073709551616", "9223372036854775807", "2147483648", "\"F16\"", "\"F64\"", "\"BF16\"",
        "\"dtype\":\"F32\",", "\"shape\":[0],", "\"data_offsets\":[0,0]", "\"__metadata__\":{\"a\":1},",
        "\"__metadata__\":{\"a\":\"b\"},", "\"\\ud800\"", "\\u0000", "[[[[[[[[[[[[", "\u00e9\u2713", "\0",
        "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},", "  ", "\n", "/*", "NaN", "\uFEFF",
        "\"a\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8]},", "\"dtype\":", "\"shape\":[2147483647,2147483647,2147483647],",
    };

    @TempDir
    Path dir;

    /** One mutated file and how it was made. */
    private record Mutant(byte[] bytes, String how) {}

    @Test
    void onlySafeTensorsExceptionComesOut() throws IOException {
        List<byte[]> bases = bases();
        Path f = dir.resolve("fuzz.safetensors");
        Random master = new Random(SEED);
        int accepted = 0;
        Map<String, Integer> problems = new TreeMap<>();
        long t0 = System.nanoTime();
        for (int it = 0; it < ITERATIONS; it++) {
            long s = master.nextLong();
            Random r = new Random(s);
            byte[] base = bases.get(r.nextInt(bases.size()));
            Mutant m = new Mutant(base, "base " + bases.indexOf(base));
            int rounds = 1 + r.nextInt(3);
            try {
                for (int k = 0; k < rounds; k++) {
                    m = mutate(r, m);
                }
            } catch (RuntimeException e) {
                throw new AssertionError("mutator failed at " + where(it, s, m), e);
            }
            Files.write(f, m.bytes());
            try {
                Contents c = SafeTensors.read(f);
                accepted++;
                check(c, f.resolveSibling("again.safetensors"));
            } catch (SafeTensorsException e) {
                String msg = e.getMessage();
                if (!msg.startsWith(f + ": " + e.location() + ": ") || msg.contains("\n") || msg.length() > 2000) {
                    fail(where(it, s, m) + ": badly formed message: " + msg, e);
                }
                String p = e.problem().replaceAll("[0-9]+", "N").replaceAll("'[^']*'|\"[^\"]*\"", "_");
                problems.merge(p.length() > 70 ? p.substring(0, 70) : p, 1, Integer::sum);
            } catch (Throwable t) {
                fail(where(it, s, m) + ": " + t, t);
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("SafeTensorsFuzzTest: seed %d, %d iterations in %.1f s, %d accepted, %d rejected in %d kinds%n",
                SEED, ITERATIONS, secs, accepted, ITERATIONS - accepted, problems.size());
        problems.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(40)
                .forEach(e -> System.out.printf("  %6d  %s%n", e.getValue(), e.getKey()));
        assertTrue(accepted > ITERATIONS / 50, "too few mutants accepted: " + accepted);
        assertTrue(ITERATIONS - accepted > ITERATIONS / 2, "too few mutants rejected");
    }

    private static String where(int it, long s, Mutant m) {
        return "seed " + SEED + ", iteration " + it + " (iteration seed " + s + "), mutations: " + m.how();
    }

    /** An accepted file must describe consistent tensors that survive a round trip. */
    private static void check(Contents c, Path again) {
        for (Tensor t : c.tensors()) {
            long n = 1;
            for (int d : t.shape()) {
                assertTrue(d >= 0);
                n *= d;
            }
            assertEquals(n, t.data().length, t.name());
        }
        SafeTensors.write(again, c.metadata(), c.tensors());
        assertEquals(c, SafeTensors.read(again));
    }

    private List<byte[]> bases() throws IOException {
        List<byte[]> out = new ArrayList<>();
        Random r = new Random(SEED ^ 0x1234);
        for (int b = 0; b < 6; b++) {
            List<Tensor> ts = new ArrayList<>();
            int layers = 1 + r.nextInt(3);
            int in = 1 + r.nextInt(6);
            for (int i = 0; i < layers; i++) {
                int outUnits = b == 0 && i == 0 ? 0 : 1 + r.nextInt(6);
                float[] w = new float[outUnits * in];
                for (int k = 0; k < w.length; k++) {
                    w[k] = (float) r.nextGaussian();
                }
                ts.add(new Tensor("layers." + i + ".weight", new int[] {outUnits, in}, w));
                ts.add(new Tensor("layers." + i + ".bias", new int[] {outUnits}, new float[outUnits]));
                in = Math.max(outUnits, 1);
            }
            if (b % 2 == 1) {
                ts.add(new Tensor("scalar", new int[] {}, new float[] {1}));
            }
            Map<String, String> meta = new LinkedHashMap<>();
            if (b % 3 != 0) {
                meta.put("format", "salvo");
                meta.put("epoch", String.valueOf(b));
            }
            Path p = dir.resolve("base" + b);
            SafeTensors.write(p, meta, ts);
            out.add(Files.readAllBytes(p));
        }
        // one in another writer's style: F64, unpadded, out of offset order
        String json = "{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[16,20]},"
                + "\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}";
        ByteBuffer data = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-2).putFloat(3);
        out.add(file(json.getBytes(StandardCharsets.UTF_8), data.array()));
        return out;
    }

    private static byte[] file(byte[] header, byte[] data) {
        return ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(header.length).put(header).put(data).array();
    }

    private static int headerLength(byte[] b) {
        if (b.length < 8) {
            return -1;
        }
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return n < 0 || n > b.length - 8 ? -1 : (int) n;
    }

    private static Mutant mutate(Random r, Mutant m) {
        byte[] b = m.bytes().clone();
        int n = headerLength(b);
        int kind = r.nextInt(9);
        switch (kind) {
            case 0: { // flip bytes in the header
                if (n <= 0) {
                    return flip(r, m, 0, b.length);
                }
                return flip(r, m, 8, 8 + n);
            }
            case 1: { // flip bytes in the data (usually still a valid file)
                if (n < 0 || 8 + n >= b.length) {
                    return flip(r, m, 0, b.length);
                }
                return flip(r, m, 8 + n, b.length);
            }
            case 2: { // truncate
                int len = r.nextInt(b.length + 1);
                return new Mutant(Arrays.copyOf(b, len), m.how() + "; truncate to " + len);
            }
            case 3: { // change the length prefix
                if (b.length < 8) {
                    return new Mutant(Arrays.copyOf(b, 8 + r.nextInt(8)), m.how() + "; extend to 8+");
                }
                long[] choices = {r.nextLong(), n + 1 + r.nextInt(8), n - 1 - r.nextInt(8), 0, b.length, b.length - 8,
                    -1, SafeTensors.MAX_HEADER_BYTES + 1, SafeTensors.MAX_HEADER_BYTES, Integer.MAX_VALUE, 1L << 32};
                long v = choices[r.nextInt(choices.length)];
                ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(v);
                return new Mutant(b, m.how() + "; length prefix " + Long.toUnsignedString(v));
            }
            case 4:
            case 5: { // splice a JSON fragment into the header, usually fixing the length prefix
                if (n < 0) {
                    return flip(r, m, 0, b.length);
                }
                String frag = FRAGMENTS[r.nextInt(FRAGMENTS.length)];
                byte[] fb = frag.getBytes(StandardCharsets.UTF_8);
                int at = 8 + r.nextInt(n + 1);
                int cut = r.nextInt(4) == 0 ? Math.min(r.nextInt(8), 8 + n - at) : 0;
                byte[] out = new byte[b.length + fb.length - cut];
                System.arraycopy(b, 0, out, 0, at);
                System.arraycopy(fb, 0, out, at, fb.length);
                System.arraycopy(b, at + cut, out, at + fb.length, b.length - at - cut);
                boolean fix = r.nextInt(5) != 0;
                if (fix) {
                    ByteBuffer.wrap(out, 0, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(n + fb.length - cut);
                }
                return new Mutant(out, m.how() + "; splice " + JSON.valueToTree(frag) + " at " + at + " cutting " + cut
                        + (fix ? "" : " (length not fixed)"));
            }
            case 6:
            case 7: { // replace a node of the parsed header, re-serialise with a matching length
                if (n < 0) {
                    return flip(r, m, 0, b.length);
                }
                JsonNode root;
                try {
                    root = JSON.readTree(new String(b, 8, n, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    return flip(r, m, 8, 8 + n);
                }
                if (root == null || !root.isContainerNode()) {
                    return flip(r, m, 0, b.length);
                }
                List<JsonNode> containers = new ArrayList<>();
                collect(root, containers);
                if (containers.isEmpty()) { // "{}" or "[]"
                    return flip(r, m, 8, 8 + n);
                }
                JsonNode parent = containers.get(r.nextInt(containers.size()));
                String what = replaceChild(r, parent);
                byte[] h;
                try {
                    h = JSON.writeValueAsBytes(root);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
                byte[] data = Arrays.copyOfRange(b, 8 + n, b.length);
                return new Mutant(file(h, data), m.how() + "; tree: " + what);
            }
            default: { // append or drop data bytes
                if (r.nextBoolean() || b.length == 0) {
                    int extra = 1 + r.nextInt(16);
                    byte[] out = Arrays.copyOf(b, b.length + extra);
                    return new Mutant(out, m.how() + "; append " + extra + " zero bytes");
                }
                int drop = 1 + r.nextInt(Math.min(8, b.length));
                return new Mutant(Arrays.copyOf(b, b.length - drop), m.how() + "; drop last " + drop);
            }
        }
    }

    private static Mutant flip(Random r, Mutant m, int from, int to) {
        byte[] b = m.bytes().clone();
        if (to <= from) {
            return new Mutant(b, m.how() + "; (nothing to flip)");
        }
        StringBuilder how = new StringBuilder(m.how()).append("; flip");
        int count = 1 + r.nextInt(4);
        for (int i = 0; i < count; i++) {
            int at = from + r.nextInt(to - from);
            int x = 1 + r.nextInt(255);
            b[at] ^= (byte) x;
            how.append(' ').append(at).append("^").append(x);
        }
        return new Mutant(b, how.toString());
    }

    private static void collect(JsonNode node, List<JsonNode> out) {
        if (node.isContainerNode()) {
            if (node.size() > 0) {
                out.add(node);
            }
            for (JsonNode c : node) {
                collect(c, out);
            }
        }
    }

    private static JsonNode randomValue(Random r) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (r.nextInt(16)) {
            case 0: return f.numberNode(r.nextInt(64) - 8);
            case 1: return f.numberNode(r.nextLong());
            case 2: return f.numberNode(Long.MAX_VALUE);
            case 3: return f.numberNode(new BigInteger("18446744073709551616"));
            case 4: return f.numberNode(1.5);
            case 5: return f.textNode(new String[] {"F32", "F64", "F16", "BF16", "I64", "", "f32", "F8_E4M3"}[r.nextInt(8)]);
            case 6: return f.nullNode();
            case 7: return f.booleanNode(r.nextBoolean());
            case 8: return f.objectNode();
            case 9: return f.arrayNode();
            case 10: return f.arrayNode().add(0).add(0);
            case 11: return f.arrayNode().add(r.nextInt(40)).add(r.nextInt(40));
            case 12: return f.arrayNode().add(-1);
            case 13: return f.arrayNode().add(Integer.MAX_VALUE).add(Integer.MAX_VALUE).add(Integer.MAX_VALUE);
            case 14: return f.arrayNode().add(r.nextInt(5)).add(r.nextInt(5));
            default: return f.objectNode().put("dtype", "F32").set("shape", f.arrayNode().add(1));
        }
    }

    private static String replaceChild(Random r, JsonNode parent) {
        if (parent instanceof ObjectNode o) {
            List<String> keys = new ArrayList<>();
            for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
                keys.add(it.next());
            }
            String key = keys.get(r.nextInt(keys.size()));
            int op = r.nextInt(6);
            if (op == 0) {
                o.remove(key);
                return "remove " + key;
            }
            if (op == 1) {
                JsonNode v = o.remove(key);
                String k2 = new String[] {"__metadata__", "dtype", "shape", "data_offsets", key + "x", ""}[r.nextInt(6)];
                o.set(k2, v);
                return "rename " + key + " to " + k2;
            }
            JsonNode v = randomValue(r);
            o.set(key, v);
            return "set " + key + " = " + v;
        }
        ArrayNode a = (ArrayNode) parent;
        int i = r.nextInt(a.size());
        int op = r.nextInt(5);
        if (op == 0) {
            a.remove(i);
            return "remove [" + i + "]";
        }
        if (op == 1) {
            JsonNode v = randomValue(r);
            a.insert(i, v);
            return "insert [" + i + "] = " + v;
        }
        if (op == 2 && a.get(i).isIntegralNumber()) {
            long d = a.get(i).longValue() + r.nextInt(9) - 4;
            a.set(i, JsonNodeFactory.instance.numberNode(d));
            return "nudge [" + i + "] to " + d;
        }
        JsonNode v = randomValue(r);
        a.set(i, v);
        return "set [" + i + "] = " + v;
    }
}
