package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.dist.DistributedException;
import dev.salvo.dist.Launch;
import dev.salvo.dist.Mpi;
import dev.salvo.nn.Gpt;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import dev.salvo.train.DataParallel;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parts of a data-parallel run that need no mpirun: launch parsing, per-rank devices, buckets, the JDK 17 answer. */
class DistributedRunTest {

    @Test
    void theLaunchComesFromOpenMpisEnvironment() {
        assertEquals(null, Launch.of(Map.of()));
        assertEquals(new Launch(4, 3, 1, 2), Launch.of(Map.of("OMPI_COMM_WORLD_SIZE", "4", "OMPI_COMM_WORLD_RANK", "3",
                "OMPI_COMM_WORLD_LOCAL_RANK", "1", "OMPI_COMM_WORLD_LOCAL_SIZE", "2")));
        assertThrows(DistributedException.class, () -> Launch.of(Map.of("OMPI_COMM_WORLD_SIZE", "2", "OMPI_COMM_WORLD_RANK", "2")));
        assertThrows(DistributedException.class, () -> Launch.of(Map.of("OMPI_COMM_WORLD_SIZE", "two")));
    }

    @Test
    void eachLocalRankGetsItsDeviceAndOneGpuTwiceIsRefused() {
        Launch second = new Launch(2, 1, 1, 2);
        boolean[] own = new boolean[1];
        assertEquals("cuda:1", DistributedRun.perRankDevice("cuda:0,cuda:1", second, own));
        assertTrue(own[0]);
        assertEquals("cpu", DistributedRun.perRankDevice("cpu", second, own));
        assertEquals("cpu", DistributedRun.perRankDevice("cpu,cpu", second, own));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> DistributedRun.perRankDevice("cuda:0,cuda:0", second, new boolean[1]));
        assertTrue(e.getMessage().contains("names cuda:0 for local ranks 0 and 1"), e.getMessage());
        boolean[] shared = {true};
        assertEquals("cuda:0", DistributedRun.perRankDevice("cuda:0", new Launch(3, 2, 2, 3), shared)); // one GPU shared: host-staged
        assertTrue(!shared[0], "ranks sharing one GPU cannot use NCCL");
        e = assertThrows(IllegalArgumentException.class, () -> DistributedRun.perRankDevice("cuda:0,cuda:1", new Launch(3, 2, 2, 3), new boolean[1]));
        assertTrue(e.getMessage().contains("lists 2 devices for 3 ranks"), e.getMessage());
    }

    @Test
    void bucketsAreCutFromTheEndAndCompleteOnlyAfterTheirLowestOwner() {
        NetworkSpec mlp = NetworkSpec.input(64).dense(128, dev.salvo.device.Activation.RELU).dense(64, dev.salvo.device.Activation.RELU)
                .dense(10).build();
        ParamLayout layout = ParamLayout.of(mlp);
        int[][] b = DataParallel.buckets(layout, 4096);
        int covered = 0;
        for (int i = 0; i < b.length; i++) {
            covered += b[i][1];
            assertEquals(i == 0 ? layout.size() : b[i - 1][0], b[i][0] + b[i][1], "bucket " + i + " ends where the one before starts");
        }
        assertEquals(layout.size(), covered);
        assertArrayEquals(new int[] {0, layout.size()}, DataParallel.buckets(layout, Integer.MAX_VALUE)[0]);
        assertThrows(IllegalArgumentException.class, () -> DataParallel.buckets(layout, 0));
        // a GPT ties lm_head to wte (the first tensor): the last bucket holds wte and completes only after the embedding
        NetworkSpec gpt = Gpt.spec(1, 2, 16, 8, 20);
        ParamLayout gl = ParamLayout.of(gpt);
        int[][] gb = DataParallel.buckets(gl, 64);
        int[] ready = DataParallel.readyAfterForTest(gpt, gl, gb);
        assertEquals(0, ready[ready.length - 1], "the bucket holding wte waits for vertex 0");
        for (int i = 1; i < ready.length; i++) {
            assertTrue(ready[i] <= ready[i - 1], "launch order follows backward order");
        }
    }

    @Test
    void ncclOnlyWhenEveryRankCan() {
        assertTrue(DistributedRun.useNccl("auto", null, 4, 4));
        assertTrue(!DistributedRun.useNccl("auto", null, 3, 4), "a rank without NCCL: all ranks stage through host memory");
        assertTrue(!DistributedRun.useNccl("auto", "libnccl.so.2 not found", 3, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DistributedRun.useNccl("nccl", "libnccl.so.2 not found", 3, 4));
        assertEquals("--all-reduce nccl: libnccl.so.2 not found", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> DistributedRun.useNccl("nccl", null, 3, 4));
        assertEquals("--all-reduce nccl: 1 of the 4 ranks cannot use NCCL", e.getMessage());
    }

    @Test
    void distributedOutsideMpirunAndOnJdk17IsBadInput() {
        StringWriter err = new StringWriter();
        int rc = Main.run(new String[] {"train", "--distributed", "--data", "digits"}, new PrintWriter(new StringWriter()), new PrintWriter(err));
        assertEquals(2, rc);
        assertTrue(err.toString().contains("--distributed: this process was not started by mpirun"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        if (Runtime.version().feature() < 22) {
            assertTrue(!Mpi.supported());
            assertTrue(Mpi.unsupportedReason().startsWith("distributed training needs JDK 22 or newer"), Mpi.unsupportedReason());
            assertThrows(DistributedException.class, () -> Mpi.open(null));
        }
    }
}
