package dev.salvo.data;

import static dev.salvo.data.IdxTest.assertBad;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {

    @TempDir
    Path dir;

    private Path write(String name, String text) throws IOException {
        Path p = dir.resolve(name);
        Files.writeString(p, text, StandardCharsets.UTF_8);
        return p;
    }

    @Test
    void readsHeaderAutoDetectedAndLastColumnLabel() throws IOException {
        Path p = write("iris.csv", "a,b,species\n1.5,2,0\n-3e-1, 4 ,2\n\n7,8,1\n");
        Dataset d = Csv.read(p);
        assertEquals("iris.csv", d.name());
        assertEquals(3, d.rows());
        assertEquals(2, d.width());
        assertEquals(3, d.classes());
        assertArrayEquals(new float[] {1.5f, 2, -0.3f, 4, 7, 8}, d.features());
        assertArrayEquals(new int[] {0, 2, 1}, d.labels());
    }

    @Test
    void noHeaderIsDetectedToo() throws IOException {
        Dataset d = Csv.read(write("n.csv", "1,2,3\r\n4,5,0\r\n"));
        assertEquals(2, d.rows());
        assertEquals(4, d.classes());
        assertArrayEquals(new int[] {3, 0}, d.labels());
    }

    @Test
    void labelColumnByNameOrIndexAndOtherSeparator() throws IOException {
        Path p = write("s.tsv", "label;x;y\n1;0.5;0.25\n0;1;2\n");
        Csv.Options byName = new Csv.Options(null, "label", ';');
        Dataset d = Csv.read(p, byName);
        assertArrayEquals(new int[] {1, 0}, d.labels());
        assertArrayEquals(new float[] {0.5f, 0.25f, 1, 2}, d.features());
        assertEquals(d, Csv.read(p, byName.withLabelColumn("0")));
        Dataset noHeader = Csv.read(write("h.csv", "1,2,3\n"), new Csv.Options(false, "0", ','));
        assertArrayEquals(new int[] {1}, noHeader.labels());
        assertArrayEquals(new float[] {2, 3}, noHeader.features());
    }

    @Test
    void forcedHeaderTreatsANumericFirstRowAsNames() throws IOException {
        Dataset d = Csv.read(write("f.csv", "1,2\n3,4\n"), Csv.Options.defaults().withHeader(true));
        assertEquals(1, d.rows());
        assertArrayEquals(new int[] {4}, d.labels());
    }

    @Test
    void quotedCellsAndBom() throws IOException {
        Path p = write("q.csv", "\uFEFF\"na,me\",\"say \"\"hi\"\"\",cls\n\"1\", 2 ,\"3.0\"\n");
        Csv.Options o = Csv.Options.defaults().withLabelColumn("cls");
        Dataset d = Csv.read(p, o);
        assertArrayEquals(new float[] {1, 2}, d.features());
        assertArrayEquals(new int[] {3}, d.labels());
        Path named = write("q2.csv", "\"na,me\",\"say \"\"hi\"\"\",cls\n1,2,0\n");
        assertEquals(0, Csv.read(named, o.withLabelColumn("say \"hi\"")).features()[1]);
    }

    @Test
    void gzipCompressedCsv() throws IOException {
        Path p = dir.resolve("data.csv.bin");
        Files.write(p, IdxTest.gzip("x,y\n1,0\n2,1\n".getBytes(StandardCharsets.UTF_8)));
        Dataset d = Csv.read(p);
        assertArrayEquals(new float[] {1, 2}, d.features());
        assertArrayEquals(new int[] {0, 1}, d.labels());
    }

    @Test
    void wrongWidthNamesTheLine() throws IOException {
        Path p = write("w.csv", "a,b,c\n1,2,0\n\n1,2\n");
        assertTrue(assertBad(p, "line 4", () -> Csv.read(p)).getMessage().contains("2 cells, expected 3"));
        Path q = write("w2.csv", "1,2,0\n1,2,0,4\n");
        assertBad(q, "line 2", () -> Csv.read(q));
    }

    @Test
    void nonNumericAndNonFiniteCellsNameLineAndColumn() throws IOException {
        Path p = write("n.csv", "a,b,c\n1,2,0\n1,x2,0\n");
        DataFormatException e = assertBad(p, "line 3, column 2", () -> Csv.read(p));
        assertTrue(e.getMessage().contains("'b'"), e.getMessage());
        for (String bad : new String[] {"NaN", "-Infinity", "inf", "1e999", "", "1e", "0x10", "1f"}) {
            Path q = write("nf.csv", "a,b,c\n1,2,0\n4," + bad + ",1\n");
            assertBad(q, "line 3, column 2", () -> Csv.read(q));
        }
        Path stray = write("st.csv", "1,2\"3,0\n");
        assertBad(stray, "line 1, column 2", () -> Csv.read(stray));
        Path open = write("op.csv", "1,\"2,0\n");
        assertBad(open, "line 1, column 2", () -> Csv.read(open));
    }

    @Test
    void labelsMustBeNonNegativeIntegers() throws IOException {
        for (String bad : new String[] {"-1", "1.5", "abc", "1e9", "NaN"}) {
            Path p = write("l.csv", "1,0\n2," + bad + "\n");
            assertBad(p, "line 2, column 2", () -> Csv.read(p));
        }
    }

    @Test
    void emptyFilesAndMissingLabelColumn() throws IOException {
        Path empty = write("e.csv", "");
        assertBad(empty, "line", () -> Csv.read(empty));
        Path blank = write("b.csv", "\n  \n");
        assertBad(blank, "line", () -> Csv.read(blank));
        Path headerOnly = write("h.csv", "a,b\n");
        assertTrue(assertBad(headerOnly, "line", () -> Csv.read(headerOnly)).getMessage().contains("no data rows"));
        Path oneCol = write("o.csv", "1\n2\n");
        assertBad(oneCol, "line 1", () -> Csv.read(oneCol));
        Path p = write("m.csv", "a,b\n1,0\n");
        DataFormatException e = assertBad(p, "line 1", () -> Csv.read(p, Csv.Options.defaults().withLabelColumn("label")));
        assertTrue(e.getMessage().contains("'label' is not in the header (columns: a, b)"), e.getMessage());
        assertBad(p, "line 1", () -> Csv.read(p, Csv.Options.defaults().withLabelColumn("5")));
        Path nh = write("nh.csv", "1,0\n");
        assertBad(nh, "line 1", () -> Csv.read(nh, Csv.Options.defaults().withLabelColumn("label")));
    }

    @Test
    void quoteAsSeparatorIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Csv.Options(null, null, '"'));
    }
}
