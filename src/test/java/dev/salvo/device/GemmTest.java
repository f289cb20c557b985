package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The {@link Gemm} shape: constructors, factories, extents, flops and validation. */
class GemmTest {

    @Test
    void theFiveArgumentConstructorIsOneProductWithoutAccumulation() {
        Gemm g = new Gemm(3, 4, 5, true, false);
        assertEquals(new Gemm(3, 4, 5, true, false, 1, 15, 20, 12, 0), g);
        assertEquals(1, g.batch());
        assertEquals(0, g.beta());
        assertFalse(g.accumulates());
        assertEquals(15, g.aLength());
        assertEquals(20, g.bLength());
        assertEquals(12, g.cLength());
        assertEquals(120.0, g.flops());
        assertEquals(Gemm.of(3, 4, 5).transposeA(), g);
        assertEquals(new Gemm(3, 4, 5, true, true), Gemm.of(3, 4, 5).transposeB().transposeA());
    }

    @Test
    void batchedExtentsSpanEveryEntry() {
        Gemm g = Gemm.of(3, 4, 5).batched(7, 20, 0, 13).accumulate();
        assertEquals(7, g.batch());
        assertEquals(1, g.beta());
        assertTrue(g.accumulates());
        assertEquals(6 * 20 + 15, g.aLength());
        assertEquals(20, g.bLength(), "stride 0: one shared matrix");
        assertEquals(6 * 13 + 12, g.cLength());
        assertEquals(15, g.aMatrixLength());
        assertEquals(7 * 120.0, g.flops(), "flops cover the batch");
        assertEquals(Gemm.of(3, 4, 5).batched(7, 15, 20, 12), Gemm.of(3, 4, 5).batched(7));
        assertEquals(0, Gemm.of(3, 4, 5).batched(0, 15, 20, 12).cLength(), "batch 0 spans nothing");
        assertEquals(0.0, Gemm.of(3, 4, 5).batched(0).flops());
        // overlapping reads of A are allowed, as are strides of a zero-size output
        assertEquals(2 * 1 + 15, Gemm.of(3, 4, 5).batched(3, 1, 20, 12).aLength());
        assertEquals(0, Gemm.of(0, 4, 5).batched(3, 0, 20, 0).cLength());
    }

    @Test
    void invalidValuesNameTheirField() {
        rejects("m", () -> new Gemm(-1, 2, 3, false, false));
        rejects("n", () -> new Gemm(1, -2, 3, false, false));
        rejects("k", () -> Gemm.of(1, 2, -3));
        rejects("batch", () -> Gemm.of(1, 2, 3).batched(-1, 2, 6, 2));
        rejects("strideA", () -> Gemm.of(1, 2, 3).batched(2, -1, 6, 2));
        rejects("strideB", () -> Gemm.of(1, 2, 3).batched(2, 3, -6, 2));
        rejects("strideC", () -> Gemm.of(1, 2, 3).batched(2, 3, 6, -2));
        rejects("beta", () -> new Gemm(1, 2, 3, false, false, 1, 3, 6, 2, 2));
        rejects("beta", () -> new Gemm(1, 2, 3, false, false, 1, 3, 6, 2, -1));
        rejects("strideA", () -> Gemm.of(1, 2, 3).batched(Integer.MAX_VALUE, Long.MAX_VALUE / 2, 6, 2));
        rejects("strideB", () -> Gemm.of(1, 2, 3).batched(3, 3, Long.MAX_VALUE / 2, 2));
        rejects("strideC", () -> Gemm.of(1, 2, 3).batched(3, 3, 6, Long.MAX_VALUE / 2 + 1));
        rejects("strideC", () -> Gemm.of(4, 5, 3).batched(2, 12, 15, 19)); // entries of z would overlap
        rejects("strideC", () -> Gemm.of(4, 5, 3).batched(2, 12, 15, 0));
    }

    private static void rejects(String field, Executable e) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        assertTrue(x.getMessage().contains(field), () -> "'" + x.getMessage() + "' names " + field);
    }
}
