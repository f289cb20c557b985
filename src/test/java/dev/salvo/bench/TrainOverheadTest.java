package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The --train part of {@code salvo bench --allreduce}: summary.json's "distributed" object (the
 * data-parallel trainer's contract) parsed from a fixture, the overhead arithmetic and the table;
 * a summary without the object is refused with one line.
 */
class TrainOverheadTest {

    static JsonNode fixture() throws IOException {
        try (InputStream in = TrainOverheadTest.class.getResourceAsStream("/dist/summary-2-ranks.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    @Test
    void parsesTheDistributedObjectAndTheEpochSeconds() throws IOException {
        TrainOverhead.Run r = TrainOverhead.parse(fixture(), "fixture");
        assertEquals(2, r.ranks());
        assertEquals(211, r.steps());
        assertArrayEquals(new int[] {535824}, r.bucketFloats());
        assertEquals(0.0633, r.allreduceSeconds());
        assertEquals(0.0422, r.exposedSeconds());
        assertEquals(0.3333, r.overlapShare());
        assertEquals(2.11, r.trainSeconds());
        assertEquals(0.01, r.stepSeconds(), 1e-12);
    }

    @Test
    void theTableGivesStepTimesOverheadAndOverlap() throws IOException {
        TrainOverhead.Run two = TrainOverhead.parse(fixture(), "fixture");
        TrainOverhead.Run one = new TrainOverhead.Run(1, 422, new int[] {535824}, 0, 0, 1, 3.376);
        TrainOverhead.Row row = new TrainOverhead.Row("fashion-mlp 784-512-256-10", 128, one, two);
        assertEquals(0.01 / 0.008 - 1, row.overhead(), 1e-12);
        assertEquals("""
                | network | batch/rank | step 1 rank | step 2 ranks | overhead | all-reduce/step | exposed/step | overlap share |
                |---|---|---|---|---|---|---|---|
                | fashion-mlp 784-512-256-10 | 128 | 8.00 ms | 10.00 ms | +25.0% | 0.30 ms | 0.20 ms | 33% |
                """, TrainOverhead.table(List.of(row)));
        assertEquals(0.3333, row.toMap().get("overlap_share"));
    }

    @Test
    void aSingleProcessRunCountsItsStepsFromTheSamples() throws IOException {
        ObjectNode s = (ObjectNode) fixture();
        s.remove("distributed");
        s.put("samples_per_second", 54_000 / 3.9);
        TrainOverhead.Run one = TrainOverhead.parseSingle(s, "one", 128);
        assertEquals(1, one.ranks());
        assertEquals(422, one.steps(), "ceil(54,000 / 128)");
        assertEquals(2.11 / 422, one.stepSeconds(), 1e-12);
        assertEquals(null, one.toMap().get("overlap_share"));
        assertEquals(211, TrainOverhead.parseSingle(fixture(), "two", 128).steps(), "the distributed object where there is one");
    }

    @Test
    void aSummaryWithoutTheDistributedObjectIsRefusedInOneLine() throws IOException {
        ObjectNode s = (ObjectNode) fixture();
        s.remove("distributed");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> TrainOverhead.parse(s, "summary.json of x"));
        assertTrue(e.getMessage().startsWith("summary.json of x has no \"distributed\" object"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
        ObjectNode t = (ObjectNode) fixture();
        ((ObjectNode) t.get("distributed")).remove("exposed_seconds");
        assertTrue(assertThrows(IllegalStateException.class, () -> TrainOverhead.parse(t, "y")).getMessage()
                .contains("exposed_seconds"));
    }
}
