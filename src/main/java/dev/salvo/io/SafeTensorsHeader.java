package dev.salvo.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The checks of a safetensors header that {@link SafeTensors#read} makes before it reads any data:
 * the metadata map, each tensor entry (dtype, shape, offsets inside the data section), valid UTF-8
 * and Unicode, and the one-line descriptions of what was found instead. Every failure is a
 * {@link SafeTensorsException} naming the file and the field.
 */
final class SafeTensorsHeader {

    private SafeTensorsHeader() {
    }

    /** A validated header entry. */
    record Entry(String name, int index, int elemSize, int[] shape, long count, long begin, long end) {
        String where() {
            return tensorLocation(name);
        }
    }

    static void readMetadata(Path file, JsonNode m, Map<String, String> out) {
        if (m.isNull()) {
            return; // serde reads "__metadata__": null as no metadata
        }
        if (!m.isObject()) {
            throw new SafeTensorsException(file, "__metadata__", "expected an object of strings, got " + describe(m));
        }
        Iterator<Map.Entry<String, JsonNode>> it = m.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            String where = "__metadata__." + abbreviate(e.getKey());
            if (!e.getValue().isTextual()) {
                throw new SafeTensorsException(file, where, "metadata values must be strings, got " + describe(e.getValue()));
            }
            if (!wellFormed(e.getKey()) || !wellFormed(e.getValue().textValue())) {
                throw new SafeTensorsException(file, where, "not valid Unicode: a \\u escape encodes an unpaired surrogate");
            }
            out.put(e.getKey(), e.getValue().textValue());
        }
    }

    static Entry entry(Path file, String name, int index, JsonNode node, long dataLen) {
        String where = tensorLocation(name);
        if (!wellFormed(name)) {
            throw new SafeTensorsException(file, where, "name is not valid Unicode: a \\u escape encodes an unpaired surrogate");
        }
        if (!node.isObject()) {
            throw new SafeTensorsException(file, where, "expected an object with dtype, shape and data_offsets, got " + describe(node));
        }
        JsonNode dt = node.get("dtype");
        JsonNode sh = node.get("shape");
        JsonNode off = node.get("data_offsets");
        for (String k : List.of("dtype", "shape", "data_offsets")) {
            if (node.get(k) == null) {
                throw new SafeTensorsException(file, where, "missing " + k);
            }
        }
        if (!dt.isTextual()) {
            throw new SafeTensorsException(file, where, "dtype must be a string, got " + describe(dt));
        }
        String dtype = dt.textValue();
        int elemSize;
        if (dtype.equals("F32")) {
            elemSize = 4;
        } else if (dtype.equals("F64")) {
            elemSize = 8;
        } else if (SafeTensors.KNOWN_DTYPES.contains(dtype)) {
            throw new SafeTensorsException(file, where, "dtype " + dtype + " is not supported: only F32 and F64 can be read");
        } else {
            throw new SafeTensorsException(file, where, "unknown dtype " + describe(dt));
        }

        if (!sh.isArray()) {
            throw new SafeTensorsException(file, where, "shape must be an array of integers, got " + describe(sh));
        }
        int[] shape = new int[sh.size()];
        long count = 1;
        boolean overflow = false;
        for (int i = 0; i < shape.length; i++) {
            long d = nonNegativeLong(file, where, "shape[" + i + "]", sh.get(i));
            if (d > Integer.MAX_VALUE) {
                throw new SafeTensorsException(file, where, "shape[" + i + "] = " + d + " is larger than " + Integer.MAX_VALUE);
            }
            shape[i] = (int) d;
            if (!overflow) {
                try {
                    count = Math.multiplyExact(count, d);
                } catch (ArithmeticException e) {
                    overflow = true;
                }
            }
        }
        // a zero dimension anywhere makes the tensor empty, even when the other factors overflow
        for (int d : shape) {
            if (d == 0) {
                count = 0;
                overflow = false;
            }
        }
        if (overflow) {
            throw new SafeTensorsException(file, where, "shape " + Arrays.toString(shape) + " has more elements than fit in 64 bits");
        }

        if (!off.isArray() || off.size() != 2) {
            throw new SafeTensorsException(file, where, "data_offsets must be [begin, end], got " + describe(off));
        }
        long begin = nonNegativeLong(file, where, "data_offsets[0]", off.get(0));
        long end = nonNegativeLong(file, where, "data_offsets[1]", off.get(1));
        String offsets = "data_offsets [" + begin + ", " + end + "]";
        if (begin > end) {
            throw new SafeTensorsException(file, where, offsets + ": begin is after end");
        }
        if (end > dataLen) {
            throw new SafeTensorsException(file, where, offsets + " run past the end of the data section (" + dataLen + " bytes)");
        }
        long bytes = count > Long.MAX_VALUE / elemSize ? -1 : count * elemSize;
        if (bytes != end - begin) {
            throw new SafeTensorsException(file, where, offsets + " hold " + (end - begin) + " bytes but shape "
                    + Arrays.toString(shape) + " of " + dtype + " needs " + (bytes < 0 ? "more than 2^63" : String.valueOf(bytes)));
        }
        if (count > SafeTensors.MAX_ELEMENTS) {
            throw new SafeTensorsException(file, where, "tensor has " + count + " elements, more than a Java array holds");
        }
        return new Entry(name, index, elemSize, shape, count, begin, end);
    }

    static long nonNegativeLong(Path file, String where, String what, JsonNode v) {
        if (!v.isIntegralNumber()) {
            throw new SafeTensorsException(file, where, what + " must be a non-negative integer, got " + describe(v));
        }
        if (!v.canConvertToLong()) {
            throw new SafeTensorsException(file, where, what + " = " + abbreviate(v.toString()) + " is out of range");
        }
        long x = v.longValue();
        if (x < 0) {
            throw new SafeTensorsException(file, where, what + " is negative (" + x + ")");
        }
        return x;
    }

    static String decodeUtf8(Path file, byte[] bytes) {
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(8192);
        while (true) {
            CoderResult r = dec.decode(in, out, true);
            if (r.isError()) {
                throw new SafeTensorsException(file, "byte " + (8 + in.position()), "header is not valid UTF-8");
            }
            out.clear();
            if (r.isUnderflow()) {
                break;
            }
        }
        return new String(bytes, StandardCharsets.UTF_8); // exact: validated above
    }

    static JsonNode parse(Path file, String json) {
        JsonNode root;
        try {
            root = SafeTensors.READER.readTree(json);
        } catch (JsonProcessingException e) {
            JsonLocation loc = e.getLocation();
            String where = loc == null || loc.getCharOffset() < 0 ? "byte 8"
                    : "byte " + (8 + utf8Length(json, (int) Math.min(loc.getCharOffset(), json.length())));
            throw new SafeTensorsException(file, where, "header is not valid JSON: " + abbreviate(e.getOriginalMessage()), e);
        }
        if (root == null || root.isMissingNode()) {
            throw new SafeTensorsException(file, "byte 8", "header is blank, expected a JSON object");
        }
        if (!root.isObject()) {
            throw new SafeTensorsException(file, "byte 8", "header is " + describe(root) + ", expected a JSON object");
        }
        return root;
    }

    /** False for strings with unpaired surrogates, which JSON u-escapes can encode (serde_json rejects them). */
    static boolean wellFormed(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return false;
            }
        }
        return true;
    }

    static long utf8Length(String s, int chars) {
        long n = 0;
        for (int i = 0; i < chars; i++) {
            char c = s.charAt(i);
            n += c < 0x80 ? 1 : c < 0x800 ? 2 : Character.isSurrogate(c) ? 2 : 3;
        }
        return n;
    }

    static String tensorLocation(String name) {
        return "tensor " + abbreviate(name);
    }

    static String describe(JsonNode v) {
        String type = switch (v.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case STRING -> "a string";
            case NUMBER -> v.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
        return v.isNull() ? type : type + " " + abbreviate(v.toString());
    }

    static String abbreviate(String s) {
        if (s == null) {
            return "null";
        }
        return s.length() <= 120 ? s : s.substring(0, 100) + "...(" + s.length() + " chars)";
    }
}
