package dev.salvo.data;

import dev.salvo.util.InputFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A UTF-8 text as a stream of character ids: the text of a character-level language model.
 *
 * <p>The file is decoded strictly (malformed or truncated UTF-8 is refused, naming the byte offset
 * of the first bad byte). The {@link Vocabulary} is the sorted distinct code points of the text
 * (at most {@link Vocabulary#MAX_SIZE}), or a given one (a trained model's: a character outside it
 * is refused, naming the character and its byte offset). The split is by position: the last
 * {@code valFraction} of the characters ({@code round(n * valFraction)}) is the validation split,
 * the rest the training split. Every problem is a one-line {@link DataFormatException} naming the
 * file (and the byte offset where there is one).
 */
public final class TextCorpus {

    /** {@code --data} name of the embedded excerpt: the book of Genesis, King James Version. */
    public static final String GENESIS = "kjv-genesis";

    /** Resource of {@link #GENESIS}: {@code bible -l79 "Gen1:1-Gen50:26"} (Debian's bible-kjv), 204,674 bytes. */
    static final String GENESIS_RESOURCE = "/salvo/data/kjv-genesis.txt";

    /** Largest file read: a 2^31-character stream would not fit one Java array of ids. */
    static final long MAX_BYTES = 1L << 30;

    private final String name;
    private final Vocabulary vocab;
    private final int[] tokens;
    private final int trainLength;

    private TextCorpus(String name, Vocabulary vocab, int[] tokens, int trainLength) {
        this.name = name;
        this.vocab = vocab;
        this.tokens = tokens;
        this.trainLength = trainLength;
    }

    /**
     * Reads {@code file} with the vocabulary of its own characters; both splits must hold at least
     * one window of {@code context + 1} characters.
     */
    public static TextCorpus read(Path file, int context, double valFraction) {
        TextCorpus c = decode(file.toString(), readBytes(file), null, valFraction);
        c.requireWindows(context, true);
        return c;
    }

    /** As {@link #read(Path, int, double)} for text already in memory, named {@code name} in messages. */
    public static TextCorpus of(String name, byte[] utf8, int context, double valFraction) {
        TextCorpus c = decode(name, utf8, null, valFraction);
        c.requireWindows(context, true);
        return c;
    }

    /**
     * Reads {@code file} through a trained model's {@code vocab} (a character outside it is an
     * error naming it and its byte offset); only the validation split need hold a window.
     */
    public static TextCorpus read(Path file, Vocabulary vocab, int context, double valFraction) {
        TextCorpus c = decode(file.toString(), readBytes(file), vocab, valFraction);
        c.requireWindows(context, false);
        return c;
    }

    /** As {@link #read(Path, Vocabulary, int, double)} for text in memory. */
    public static TextCorpus of(String name, byte[] utf8, Vocabulary vocab, int context, double valFraction) {
        TextCorpus c = decode(name, utf8, vocab, valFraction);
        c.requireWindows(context, false);
        return c;
    }

    /** The bytes of the embedded {@link #GENESIS} text. */
    public static byte[] genesis() {
        try (InputStream in = TextCorpus.class.getResourceAsStream(GENESIS_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the embedded text " + GENESIS_RESOURCE + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] readBytes(Path file) {
        try (InputStream in = InputFiles.open("--data", file)) {
            long size = java.nio.file.Files.size(file);
            if (size > MAX_BYTES) {
                throw new DataFormatException(file, "byte 0", size + " bytes, more than the " + MAX_BYTES
                        + " a text corpus may hold");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    private static TextCorpus decode(String name, byte[] bytes, Vocabulary given, double valFraction) {
        if (!(valFraction > 0 && valFraction <= 1)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 1], got " + valFraction);
        }
        if (bytes.length == 0) {
            throw new DataFormatException(name, "byte 0", "empty; a text corpus needs characters");
        }
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length); // UTF-8 never decodes to more chars than bytes
        CoderResult r = dec.decode(in, out, true);
        if (!r.isError()) {
            r = dec.flush(out);
        }
        if (r.isError()) {
            throw new DataFormatException(name, "byte " + in.position(), "not UTF-8 (" + (r.isMalformed() ? "malformed" : "unmappable")
                    + " sequence of " + r.length() + " byte" + (r.length() == 1 ? "" : "s") + String.format(java.util.Locale.ROOT,
                    ", 0x%02X", bytes[in.position()] & 0xFF) + ")");
        }
        out.flip();
        int n = Character.codePointCount(out, 0, out.limit());
        int[] cps = new int[n];
        for (int i = 0, k = 0; i < out.limit(); k++) {
            int cp = Character.codePointAt(out, i);
            cps[k] = cp;
            i += Character.charCount(cp);
        }
        Vocabulary vocab = given != null ? given : vocabularyOf(name, cps);
        int[] ids = new int[n];
        long offset = 0;
        for (int k = 0; k < n; k++) {
            int id = vocab.id(cps[k]);
            if (id < 0) {
                throw new DataFormatException(name, "byte " + offset, "the character " + Vocabulary.describe(cps[k])
                        + " is not in the model's vocabulary of " + vocab.size() + " characters");
            }
            ids[k] = id;
            offset += utf8Length(cps[k]);
        }
        int val = (int) Math.round(n * valFraction);
        return new TextCorpus(name, vocab, ids, n - val);
    }

    /** The sorted distinct code points; more than {@link Vocabulary#MAX_SIZE} is an error at the first one too many. */
    private static Vocabulary vocabularyOf(String name, int[] cps) {
        java.util.BitSet seen = new java.util.BitSet(Character.MAX_CODE_POINT + 1);
        int distinct = 0;
        long offset = 0;
        for (int cp : cps) {
            if (!seen.get(cp)) {
                seen.set(cp);
                if (++distinct > Vocabulary.MAX_SIZE) {
                    throw new DataFormatException(name, "byte " + offset, "the character " + Vocabulary.describe(cp) + " is distinct character "
                            + distinct + ", more than the " + Vocabulary.MAX_SIZE + " a vocabulary supports");
                }
            }
            offset += utf8Length(cp);
        }
        return Vocabulary.of(seen.stream().toArray());
    }

    private static int utf8Length(int cp) {
        return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }

    /** Each split that is used holds at least one window: {@code context + 1} characters. */
    private void requireWindows(int context, boolean train) {
        if (context < 1) {
            throw new IllegalArgumentException("--context must be at least 1, got " + context);
        }
        long need = (long) context + 1;
        if (train && trainLength < need) {
            throw new DataFormatException(name, "character " + trainLength, "the training split holds " + trainLength
                    + " characters of " + tokens.length + ", shorter than one window of --context " + context + " + 1 = " + need);
        }
        int val = tokens.length - trainLength;
        if (val < need) {
            throw new DataFormatException(name, "character " + trainLength, "the validation split holds " + val
                    + " characters of " + tokens.length + ", shorter than one window of --context " + context + " + 1 = " + need);
        }
    }

    /** As given: the file, or the embedded text's name. */
    public String name() {
        return name;
    }

    public Vocabulary vocabulary() {
        return vocab;
    }

    /** Every character's id, training split first (not a copy). */
    public int[] tokens() {
        return tokens;
    }

    /** Characters in the training split: {@code tokens[0 .. trainLength)}; the rest is validation. */
    public int trainLength() {
        return trainLength;
    }

    public int length() {
        return tokens.length;
    }

    public int validationLength() {
        return tokens.length - trainLength;
    }
}
