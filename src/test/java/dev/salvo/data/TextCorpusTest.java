package dev.salvo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.train.TextWindows;
import dev.salvo.util.Rng;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextCorpusTest {

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void vocabularyIsTheSortedDistinctCodePointsAndIdsFollowIt() {
        TextCorpus c = TextCorpus.of("t", utf8("bca\u00e9\ud83d\ude00abc"), 2, 0.5);
        assertEquals("abc\u00e9\ud83d\ude00", c.vocabulary().chars());
        assertArrayEquals(new int[] {1, 2, 0, 3, 4, 0, 1, 2}, c.tokens()); // the emoji is one character, not two chars
        assertEquals(4, c.trainLength());
        assertEquals(4, c.validationLength());
        assertEquals(c.vocabulary(), Vocabulary.parse(c.vocabulary().chars()));
    }

    @Test
    void theValidationSplitIsTheLastFraction() {
        TextCorpus c = TextCorpus.of("t", utf8("0123456789".repeat(10)), 4, 0.1);
        assertEquals(90, c.trainLength());
        assertEquals(10, c.validationLength());
    }

    @Test
    void badUtf8NamesTheFileAndTheByteOffset(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("bad.txt");
        byte[] b = utf8("h\u00e9llo world, more text here");
        byte[] bad = new byte[b.length + 1];
        System.arraycopy(b, 0, bad, 0, 7);
        bad[7] = (byte) 0xC3; // a lead byte followed by an ASCII byte
        System.arraycopy(b, 7, bad, 8, b.length - 7);
        Files.write(f, bad);
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextCorpus.read(f, 2, 0.1));
        assertTrue(e.getMessage().startsWith(f + ": byte 7: not UTF-8"), e.getMessage());
        Files.write(f, new byte[] {'a', 'b', (byte) 0xE2, (byte) 0x82}); // truncated at the end
        e = assertThrows(DataFormatException.class, () -> TextCorpus.read(f, 1, 0.5));
        assertTrue(e.getMessage().startsWith(f + ": byte 2: not UTF-8"), e.getMessage());
    }

    @Test
    void emptyAndTooShortFilesAreRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("empty.txt");
        Files.write(f, new byte[0]);
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextCorpus.read(f, 4, 0.1));
        assertTrue(e.getMessage().startsWith(f + ": byte 0: empty"), e.getMessage());
        Files.writeString(f, "abcdefghijklmnopqrst"); // 20 characters: 18 train, 2 validation
        e = assertThrows(DataFormatException.class, () -> TextCorpus.read(f, 4, 0.1));
        assertTrue(e.getMessage().contains("the validation split holds 2 characters") && e.getMessage().contains("4 + 1 = 5"),
                e.getMessage());
        e = assertThrows(DataFormatException.class, () -> TextCorpus.read(f, 10, 0.5));
        assertTrue(e.getMessage().contains("split holds 10 characters"), e.getMessage());
        assertEquals(16, TextCorpus.read(f, 3, 0.2).trainLength());
    }

    @Test
    void aVocabularyOverTheSupportedSizeNamesTheFirstCharacterTooMany() {
        StringBuilder sb = new StringBuilder();
        for (int cp = 0x4E00; sb.codePointCount(0, sb.length()) < Vocabulary.MAX_SIZE + 1; cp++) {
            sb.appendCodePoint(cp < 0xD800 ? cp : cp + 0x2000 + 0x10000); // skip the surrogates
        }
        String s = sb.toString();
        int firstTooMany = s.offsetByCodePoints(0, Vocabulary.MAX_SIZE);
        int byteOffset = s.substring(0, firstTooMany).getBytes(StandardCharsets.UTF_8).length;
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextCorpus.of("big", utf8(s), 1, 0.1));
        assertTrue(e.getMessage().startsWith("big: byte " + byteOffset + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("65536"), e.getMessage());
    }

    @Test
    void aModelsVocabularyRefusesOtherCharactersAtTheirByteOffset() {
        Vocabulary v = Vocabulary.parse(" abc");
        TextCorpus c = TextCorpus.of("t", utf8("abc abc abc"), v, 2, 0.5);
        assertArrayEquals(new int[] {1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}, c.tokens());
        DataFormatException e = assertThrows(DataFormatException.class, () -> TextCorpus.of("t", utf8("ab\u00e9 abd"), v, 2, 0.5));
        assertTrue(e.getMessage().startsWith("t: byte 2: the character '\u00e9' (U+00E9)"), e.getMessage());
    }

    @Test
    void theEmbeddedGenesisIsAsciiScripture() {
        TextCorpus c = TextCorpus.of("g", TextCorpus.genesis(), 64, 0.1);
        assertEquals(204_674, c.length());
        assertTrue(new String(TextCorpus.genesis(), StandardCharsets.US_ASCII).contains("In the beginning God created"));
    }

    @Test
    void windowsStayInTheirSplitAndValidationWindowsAreEvenlySpaced() {
        int[] tokens = new int[1000];
        TextWindows w = new TextWindows("w", tokens, 900, 1, 10, 7, 20, 4);
        assertEquals(3, w.epochs());
        assertEquals(7, w.stepsIn(1));
        assertEquals(6, w.stepsIn(2));
        int[] starts = new int[5000];
        w.drawStarts(new Rng(3), starts);
        int max = 0;
        for (int s : starts) {
            assertTrue(s >= 0 && s <= 900 - 10 - 1);
            max = Math.max(max, s);
        }
        assertEquals(889, max);
        // 100 validation tokens hold 9 windows of 10 (+1); 4 of them, evenly spaced
        assertArrayEquals(new int[] {900, 920, 940, 960}, w.validationStarts());
        assertArrayEquals(new int[] {900, 910, 920, 930, 940, 950, 960, 970, 980},
                new TextWindows("w", tokens, 900, 1, 10, 7, 20, 1000).validationStarts());
    }
}
