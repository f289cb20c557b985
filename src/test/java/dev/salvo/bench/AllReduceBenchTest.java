package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.dist.Communicator;
import dev.salvo.dist.SingleProcess;
import dev.salvo.nn.ParamLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bucket plan (from the end of the flat gradient buffer backwards, the trainer's rule), the
 * quantiles both sides use, the JSON line and the table of {@code salvo bench --allreduce}.
 */
class AllReduceBenchTest {

    @Test
    void bucketsAreCutFromTheEndBackwards() {
        assertArrayEquals(new int[][] {{6, 4}, {2, 4}, {0, 2}}, AllReduceBench.buckets(10, 4));
        assertArrayEquals(new int[][] {{4, 4}, {0, 4}}, AllReduceBench.buckets(8, 4));
        assertArrayEquals(new int[][] {{0, 8}}, AllReduceBench.buckets(8, 100));
        assertArrayEquals(new int[0][], AllReduceBench.buckets(0, 4));
        assertThrows(IllegalArgumentException.class, () -> AllReduceBench.buckets(8, 0));
    }

    @Test
    void theBenchNetworksAtFourMiB() {
        int four = AllReduceBench.bucketFloats(4);
        assertEquals(1 << 20, four);
        // 784-512-256-10: 535,818 parameters, 535,824 floats with each tensor on 16 floats: one bucket
        ParamLayout fashion = ParamLayout.of(BenchModel.FASHION_MLP.spec());
        assertEquals(535_824, fashion.size());
        assertArrayEquals(new int[][] {{0, 535_824}}, AllReduceBench.buckets(fashion, four));
        // 784-2048-2048-10: 5,824,528 floats: five full buckets from the end, then 581,648 at offset 0; they span tensors
        ParamLayout big = ParamLayout.of(BenchModel.MLP_2048.spec());
        assertEquals(5_824_528, big.size());
        int[][] b = AllReduceBench.buckets(big, four);
        assertEquals(6, b.length);
        int end = big.size();
        for (int[] x : b) {
            assertEquals(end, x[0] + x[1], "contiguous, in launch order from the end");
            end = x[0];
        }
        assertEquals(0, end);
        assertArrayEquals(new int[] {four, four, four, four, four, 581_648}, AllReduceBench.lengths(b));
        assertEquals(1 << 17, AllReduceBench.bucketFloats(0.5));
        for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY, 9000}) {
            assertThrows(IllegalArgumentException.class, () -> AllReduceBench.bucketFloats(bad));
        }
    }

    @Test
    void quantilesInterpolateBetweenOrderStatistics() {
        double[] s = {1, 2, 3, 4};
        assertEquals(2.5, AllReduceBench.quantile(s, 0.5));
        assertEquals(1.3, AllReduceBench.quantile(s, 0.1), 1e-12);
        assertEquals(4, AllReduceBench.quantile(s, 1));
        assertEquals(7, AllReduceBench.quantile(new double[] {7}, 0.9));
    }

    @Test
    void oneRankTimesTheSameWayAndPrintsTheCProgramsKeys() {
        {
            Communicator c = SingleProcess.INSTANCE;
            String line = AllReduceBench.time(c, 3, new int[] {100, 7});
            AllReduceBench.Side s = AllReduceBench.Side.parse("salvo", "noise\n" + line + "\n");
            assertEquals("salvo", s.program());
            assertEquals(1, s.ranks());
            assertEquals(3, s.iterations());
            assertArrayEquals(new int[] {100, 7}, s.bucketFloats());
            assertEquals(428, s.bytes());
            assertEquals("ok", s.check());
            assertTrue(s.min() <= s.p10() && s.p10() <= s.median() && s.median() <= s.p90() && s.p90() <= s.max(), line);
            assertEquals(2, s.bucketMedians().length);
        }
        assertThrows(IllegalStateException.class, () -> AllReduceBench.Side.parse("x", "no json here"));
    }

    @Test
    void theTableGivesMedianRangeAndRatio() {
        String c = "{\"program\":\"allreduce_bench.c\",\"mpi\":\"Open MPI v4.1.4\",\"ranks\":2,\"iterations\":5,\"warmup\":5,"
                + "\"bucket_floats\":[1048576,16],\"bytes\":4194368,\"check\":\"ok\",\"step_seconds\":{\"median\":0.004,"
                + "\"min\":0.0035,\"max\":0.0081,\"p10\":0.0036,\"p90\":0.006},\"bucket_median_seconds\":[0.0039,0.0001]}";
        AllReduceBench.Side cs = AllReduceBench.Side.parse("c", c);
        AllReduceBench.Side js = AllReduceBench.Side.parse("j", c.replace("0.004,", "0.005,").replace("allreduce_bench.c", "salvo"));
        AllReduceBench.Row r = new AllReduceBench.Row("net 1-2", 3, new int[] {1048576, 16}, cs, js, null);
        AllReduceBench.Row none = new AllReduceBench.Row("small", 3, new int[] {16}, AllReduceBench.Side.parse("c", c), null, "JDK 17");
        assertEquals("""
                | network | buckets | bytes | C MPI_Allreduce median [min-max] | Salvo median [min-max] | Salvo / C |
                |---|---|---|---|---|---|
                | net 1-2 | 2 | 4,194,368 | 4.00 ms [3.50-8.10 ms] | 5.00 ms [3.50-8.10 ms] | 1.25x |
                | small | 1 | 64 | 4.00 ms [3.50-8.10 ms] | n/a | n/a |
                """, AllReduceBench.table(List.of(r, none)).replace("\r\n", "\n"));
        assertEquals(1.25, (Double) r.toMap().get("salvo_over_c"), 1e-12);
        assertEquals("JDK 17", none.toMap().get("salvo_note"));
    }

    @Test
    void runsArePooledSampleBySample() {
        AllReduceBench.Side a = AllReduceBench.Side.of("c", "m", 2, new int[] {8, 4}, "ok", new double[] {1, 2, 3},
                new double[][] {{0.5, 1, 1.5}, {0.5, 1, 1.5}});
        AllReduceBench.Side b = AllReduceBench.Side.of("c", "m", 2, new int[] {8, 4}, "ok", new double[] {10, 4},
                new double[][] {{9, 3}, {1, 1}});
        AllReduceBench.Side p = AllReduceBench.Side.pool(List.of(a, b));
        assertEquals(5, p.iterations());
        assertEquals(3, p.median());
        assertEquals(1, p.min());
        assertEquals(10, p.max());
        assertArrayEquals(new double[] {1.5, 1}, p.bucketMedians());
        assertEquals(48, p.bytes());
        assertEquals("ok", p.check());
        AllReduceBench.Side bad = AllReduceBench.Side.of("c", "m", 2, new int[] {8, 4}, "wrong sum", new double[] {1},
                new double[][] {{1}, {1}});
        assertEquals("wrong sum", AllReduceBench.Side.pool(List.of(a, bad)).check());
    }

    @Test
    void theCProgramShipsInTheJar() {
        String src = AllReduceBench.cSource();
        assertTrue(src.contains("MPI_Allreduce(MPI_IN_PLACE") && src.contains("#define WARMUP " + AllReduceBench.WARMUP), src);
    }
}
