package dev.salvo.device.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.kernel.TuningTable;
import org.junit.jupiter.api.Test;

/** The matmul declaration's launch shapes, its TF32 variant choice, its builder and its argument checks. */
class MatmulOpsTest {

    private static final Op MM = MatmulOps.MATMUL;

    private static int[] ints(Gemm g) {
        return MatmulOps.ints(g, false, Activation.IDENTITY, false);
    }

    @Test
    void launchShapesOfTheThreeVariants() {
        TuningTable.Tuning t = TuningTable.Tuning.DEFAULT; // matmul.local 1, tile 16
        int[] n = ints(new Gemm(37, 29, 71, false, true));
        assertArrayEquals(new long[] {29, 37}, MM.global(n, t));
        assertArrayEquals(new long[] {16, 16}, MM.local(n, t));
        TuningTable.Tuning blocks = t.with("matmul.local", 2);
        // 128 x 128 blocks of 16 x 16 items: x = 16 * ceil(129 / 128), y = 16 * ceil(128 / 128)
        assertArrayEquals(new long[] {32, 16}, MM.global(ints(new Gemm(128, 129, 5, false, false)), blocks));
        assertArrayEquals(new long[] {16, 16}, MM.local(n, blocks));
        TuningTable.Tuning regs = t.with("matmul.local", 0); // wgx 4, wgy 4, wptm 4, wptn 32, dotm 4, dotn 4
        // NT: the dot path, 4 x 4 outputs per item: x = 4 * ceil(29 / 16), y = 4 * ceil(37 / 16)
        assertArrayEquals(new long[] {8, 12}, MM.global(n, regs));
        // NN: the outer path, 4 rows x 32 columns per item: x = 4 * ceil(29 / 128), y = 4 * ceil(37 / 16)
        assertArrayEquals(new long[] {4, 12}, MM.global(ints(new Gemm(37, 29, 71, false, false)), regs));
        assertArrayEquals(new long[] {4, 4}, MM.local(n, regs));
        assertEquals("matmul", MM.entry(n, t));
    }

    @Test
    void aBatchIsTheThirdDimensionUpToTheGridLimit() {
        TuningTable.Tuning t = TuningTable.Tuning.DEFAULT;
        int[] few = ints(Gemm.of(5, 3, 7).batched(17));
        assertArrayEquals(new long[] {3, 5, 17}, MM.global(few, t));
        assertArrayEquals(new long[] {16, 16, 1}, MM.local(few, t));
        int[] many = ints(Gemm.of(2, 3, 5).transposeA().batched(70_001, 11, 0, 7));
        assertEquals(MatmulOps.MAX_BATCH_GROUPS, MM.global(many, t)[2]);
    }

    @Test
    void emptyCallsLaunchNothing() {
        TuningTable.Tuning t = TuningTable.Tuning.DEFAULT;
        for (Gemm g : new Gemm[] {new Gemm(0, 5, 3, false, false), new Gemm(4, 0, 3, false, true), Gemm.of(4, 5, 6).batched(0)}) {
            long product = 1;
            for (long x : MM.global(ints(g), t)) {
                product *= x;
            }
            assertEquals(0, product, g.toString());
        }
        // K = 0 still launches: z = bias
        assertArrayEquals(new long[] {6, 4}, MM.global(ints(new Gemm(4, 6, 0, false, true)), t));
    }

    @Test
    void tensorCoresTakeOnlyPlainProducts() {
        TuningTable.Tuning row = TuningTable.Tuning.DEFAULT.with("matmul.local", 2);
        Op.Launch tc = row.withTensorCores();
        int[] plain = ints(new Gemm(257, 129, 1000, false, true));
        assertEquals("matmul_tf32", MM.entry(plain, tc));
        // 128 x 128 block tiles of 256 threads: x = 256 * ceil(129 / 128), y = ceil(257 / 128)
        assertArrayEquals(new long[] {512, 3}, MM.global(plain, tc));
        assertArrayEquals(new long[] {256, 1}, MM.local(plain, tc));
        assertEquals("matmul", MM.entry(plain, row), "tensor cores off");
        int[] batched = ints(Gemm.of(5, 3, 7).batched(3));
        int[] accumulating = ints(Gemm.of(5, 3, 7).accumulate());
        for (int[] n : new int[][] {batched, accumulating}) {
            assertEquals("matmul", MM.entry(n, tc));
            assertArrayEquals(MM.global(n, row), MM.global(n, tc));
            assertArrayEquals(MM.local(n, row), MM.local(n, tc));
        }
    }

    @Test
    void theBuilderChecksItsArguments() {
        try (Device d = Devices.open("cpu").device(); DeviceBuffer small = d.allocFloat(3); DeviceBuffer big = d.allocFloat(64)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> MatmulOps.matmul(Gemm.of(2, 2, 2), small, small, null, Activation.IDENTITY, small, null));
            assertTrue(e.getMessage().contains("a holds 3 elements, needs 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> MatmulOps.matmul(Gemm.of(2, 2, 2), big, big, null, Activation.RELU, big, null));
            assertTrue(e.getMessage().contains("needs an output y"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> MatmulOps.matmul(Gemm.of(2, 4, 2), big, big, small, Activation.IDENTITY, big, null));
            assertTrue(e.getMessage().contains("bias holds 3 elements, needs 4"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> MatmulOps.matmul(Gemm.of(1, 1, 1).batched(2, 3_000_000_000L, 0, 1), big, big, null, Activation.IDENTITY, big, null));
            assertTrue(e.getMessage().contains("strideA"), e.getMessage());
            // one entry: the strides go as 0 whatever the Gemm says
            OpCall one = MatmulOps.matmul(Gemm.of(2, 3, 4), big, big, null, Activation.IDENTITY, big, null);
            assertEquals(0, one.intArg(MM.intSlot("strideA")));
            assertEquals(0, one.intArg(MM.intSlot("strideC")));
            assertEquals(2.0 * 2 * 3 * 4, MM.flops(one.ints()));
        }
    }

    @Test
    void validateNamesTheBadArgument() {
        int[] n = ints(Gemm.of(2, 3, 4));
        n[MM.intSlot("beta")] = 2;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MM.validate(n, new double[0]));
        assertTrue(e.getMessage().contains("beta"), e.getMessage());
        int[] act = ints(Gemm.of(2, 3, 4));
        act[MM.intSlot("act")] = Activation.TANH.ordinal();
        e = assertThrows(IllegalArgumentException.class, () -> MM.validate(act, new double[0]));
        assertTrue(e.getMessage().contains("needs an output y"), e.getMessage());
        int[] overlap = MatmulOps.ints(Gemm.of(2, 3, 4).batched(3), false, Activation.IDENTITY, false);
        overlap[MM.intSlot("strideC")] = 5;
        e = assertThrows(IllegalArgumentException.class, () -> MM.validate(overlap, new double[0]));
        assertTrue(e.getMessage().contains("strideC"), e.getMessage());
    }
}
