package dev.salvo.data;

import java.util.Arrays;
import java.util.Locale;

/**
 * A character vocabulary: distinct Unicode code points in ascending order; a character's id is its
 * index. Saved with a model as the string of its characters ({@link #chars()}, metadata key
 * {@link #METADATA_KEY}), so {@code salvo generate} and {@code salvo eval} need no data file.
 */
public final class Vocabulary {

    /** Model-file and checkpoint metadata key of {@link #chars()}. */
    public static final String METADATA_KEY = "salvo.vocab";

    /**
     * Most characters a vocabulary may hold: 65,536 distinct code points. Ids travel to the device
     * as float32 (exact below 2^24) and index an embedding of {@code size x width} floats; a
     * character-level text with more distinct characters than this is not what this reader is for.
     */
    public static final int MAX_SIZE = 65_536;

    private final int[] codePoints;

    private Vocabulary(int[] sortedDistinct) {
        this.codePoints = sortedDistinct;
    }

    /** The vocabulary of these code points (any order, repeats allowed). */
    public static Vocabulary of(int[] codePoints) {
        int[] c = Arrays.stream(codePoints).sorted().distinct().toArray();
        if (c.length == 0) {
            throw new IllegalArgumentException("a vocabulary needs at least one character");
        }
        if (c.length > MAX_SIZE) {
            throw new IllegalArgumentException("a vocabulary of " + c.length + " characters is more than the "
                    + MAX_SIZE + " supported");
        }
        return new Vocabulary(c);
    }

    /** The vocabulary written by {@link #chars()}; refuses unsorted, repeated or no characters. */
    public static Vocabulary parse(String chars) {
        int[] c = chars.codePoints().toArray();
        for (int i = 1; i < c.length; i++) {
            if (c[i] <= c[i - 1]) {
                throw new IllegalArgumentException("the vocabulary's characters must be distinct and in ascending order; "
                        + describe(c[i]) + " follows " + describe(c[i - 1]));
            }
        }
        return of(c);
    }

    public int size() {
        return codePoints.length;
    }

    /** The id of code point {@code cp}, or -1 when it is not in the vocabulary. */
    public int id(int cp) {
        int i = Arrays.binarySearch(codePoints, cp);
        return i < 0 ? -1 : i;
    }

    /** The code point of id {@code id}. */
    public int codePoint(int id) {
        return codePoints[id];
    }

    /** The characters in id order, as one string. */
    public String chars() {
        return new String(codePoints, 0, codePoints.length);
    }

    /** The text of token ids. */
    public String decode(int[] ids, int from, int to) {
        StringBuilder b = new StringBuilder(to - from);
        for (int i = from; i < to; i++) {
            b.appendCodePoint(codePoints[ids[i]]);
        }
        return b.toString();
    }

    /** A character for messages: {@code 'x' (U+0078)}, control and space characters by code only. */
    public static String describe(int cp) {
        String code = String.format(Locale.ROOT, "U+%04X", cp);
        boolean printable = !Character.isISOControl(cp) && !Character.isWhitespace(cp) && Character.isDefined(cp)
                && Character.getType(cp) != Character.SURROGATE && Character.getType(cp) != Character.FORMAT;
        return printable ? "'" + new String(Character.toChars(cp)) + "' (" + code + ")" : code;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Vocabulary v && Arrays.equals(codePoints, v.codePoints);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(codePoints);
    }

    @Override
    public String toString() {
        return size() + " characters";
    }
}
