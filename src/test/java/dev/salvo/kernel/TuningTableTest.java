package dev.salvo.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.kernel.TuningTable.Tuning;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TuningTableTest {

    private static final String HEADER = TuningTable.header();

    @Test
    void headerRowsAreReadByName() {
        List<TuningTable.Row> rows = TuningTable.parse("t.csv", List.of("# comment", "device,matmul.local,matmul.vw,sum.wg",
                "pthread-*,0,8,128", "*,1,16,256"));
        assertEquals(2, rows.size());
        Tuning t = rows.get(0).tuning();
        assertEquals(0, t.mmLocal());
        assertEquals(8, t.mmVw());
        assertEquals(128, t.sumWg());
        assertEquals(Tuning.DEFAULT.wgRows(), t.wgRows(), "a column the header leaves out keeps its default");
    }

    @Test
    void theFirstFormatStillReads() {
        Tuning t = TuningTable.parse("t.csv", List.of("*,8,128,32,64")).get(0).tuning();
        assertEquals(8, t.tile());
        assertEquals(128, t.wgElementwise());
        assertEquals(32, t.wgRows());
        assertEquals(64, t.sumWg());
        assertEquals(1, t.mmLocal(), "old tables keep the local-memory matmul");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "*,1,16|line 2|columns",
        "*,1,16,4,4,16,4,32,4,4,256,64,256,abc,1|line 2|colsum.vw must be an integer",
        "*,1,16,4,4,3,4,32,4,4,256,64,256,1,1|line 2|matmul.vw must be 1, 2, 4, 8 or 16",
        "*,1,16,4,4,16,4,30,4,4,256,64,256,1,1|line 2|multiple of matmul.vw",
        "*,1,16,4,4,16,4,32,4,4,256,64,100,1,1|line 2|sum.wg must be a power of two",
        "*,3,16,4,4,16,4,32,4,4,256,64,256,1,1|line 2|matmul.local must be 0, 1 or 2",
        "*,1,0,4,4,16,4,32,4,4,256,64,256,1,1|line 2|matmul.tile must be a positive integer",
        ",1,16,4,4,16,4,32,4,4,256,64,256,1,1|line 2|empty device glob",
        "*,1,16,4,4,16,4,32,4,4,256,64,256,1,3|line 2|ew.vw must be 1, 2, 4, 8 or 16"})
    void aMalformedRowNamesTheFileTheLineAndTheProblem(String row, String line, String problem) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TuningTable.parse("my/opencl-tuning.csv", List.of(HEADER, row)));
        assertTrue(e.getMessage().startsWith("my/opencl-tuning.csv " + line + ": "), e::getMessage);
        assertTrue(e.getMessage().contains(problem), e::getMessage);
        assertEquals(1, e.getMessage().lines().count(), e::getMessage);
    }

    @Test
    void anUnknownHeaderColumnIsAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TuningTable.parse("x.csv", List.of("device,matmul.tiles", "*,16")));
        assertTrue(e.getMessage().contains("x.csv line 1") && e.getMessage().contains("unknown column 'matmul.tiles'"), e::getMessage);
    }

    @Test
    void withRowReplacesOrInsertsTheDeviceRowAndKeepsTheOthersAndTheDefault() {
        List<String> old = List.of("# my table", "*,16,256,64,256", "NVIDIA*,8,128,32,64");
        Tuning mine = Tuning.DEFAULT.with("matmul.local", 0).with("matmul.wptm", 6);
        List<String> out = TuningTable.withRow("t.csv", old, "pthread-x", mine);
        assertEquals("# my table", out.get(0));
        assertEquals(HEADER, out.get(1));
        List<TuningTable.Row> rows = TuningTable.parse("t.csv", out);
        assertEquals(List.of("pthread-x", "*", "NVIDIA*"), rows.stream().map(TuningTable.Row::glob).toList());
        assertEquals(6, rows.get(0).tuning().mmWptm());
        assertEquals(8, rows.get(2).tuning().tile(), "other rows keep their values");
        List<String> again = TuningTable.withRow("t.csv", out, "pthread-x", mine.with("matmul.wptm", 2));
        List<TuningTable.Row> rows2 = TuningTable.parse("t.csv", again);
        assertEquals(3, rows2.size(), "replaced, not added");
        assertEquals(2, rows2.get(0).tuning().mmWptm());
        List<String> noDefault = TuningTable.withRow("t.csv", List.of(HEADER), "dev", mine);
        assertEquals("*", TuningTable.parse("t.csv", noDefault).get(1).glob(), "a default row is always written");
    }

    @Test
    void eachFamilyGetsOnlyItsOwnTunables() {
        Tuning t = Tuning.DEFAULT;
        assertTrue(KernelFamilies.defines("matmul.kernel", t).containsKey("MM_WPTM"));
        assertFalse(KernelFamilies.defines("matmul.kernel", t).containsKey("SUM_WG"));
        assertEquals(List.of("SUM_WG", "COLSUM_VW"), List.copyOf(KernelFamilies.defines("reduce.kernel", t).keySet()));
        assertEquals(List.of("EW_VW"), List.copyOf(KernelFamilies.defines("rows.kernel", t).keySet()));
        assertEquals(List.of("EW_VW"), List.copyOf(KernelFamilies.defines("elementwise.kernel", t).keySet()));
        assertTrue(KernelFamilies.defines("optimizer.kernel", t).isEmpty());
    }

    @Test
    void theShippedTablesParseAndTheirDefaultRowsFitAnyGpu() {
        for (String f : List.of("opencl-tuning.csv", "cuda-tuning.csv")) {
            List<TuningTable.Row> rows = TuningTable.parse(f, TuningTable.lines(f));
            TuningTable.Row star = rows.stream().filter(r -> r.glob().equals("*")).findFirst().orElseThrow();
            assertTrue(star.tuning().mmLocal() >= 1, f + ": the default row keeps a local-memory matmul (GPUs)");
            assertTrue(star.tuning().maxWorkGroup() <= 256, f + ": default work-groups fit any GPU");
            for (TuningTable.Row r : rows) {
                assertTrue(r.tuning().maxWorkGroup() <= 1024, () -> f + ": " + r.glob() + " exceeds 1024 work-items");
            }
        }
    }
}
