package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.cpu.ReferenceProvider;
import dev.salvo.device.ops.MatmulOps;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Views: shapes, strides and offsets, what each view reads, and matmul shapes from views. */
class TensorTest {

    private Device dev;
    private DeviceBuffer buf;
    private double[] host;

    @BeforeEach
    void open() {
        dev = new ReferenceProvider().open(0);
        host = new double[2 * 3 * 4 * 5];
        Random r = new Random();
        for (int i = 0; i < host.length; i++) {
            host[i] = r.nextDouble();
        }
        buf = dev.allocFloat(host.length + 7);
        dev.upload(host, buf.slice(0, host.length));
    }

    @AfterEach
    void close() {
        dev.close();
    }

    /** Element {@code idx} of view {@code t}, read through its offset and strides from the host copy. */
    private double at(Tensor t, int... idx) {
        long o = t.offset();
        for (int i = 0; i < idx.length; i++) {
            assertTrue(idx[i] >= 0 && idx[i] < t.dim(i));
            o += idx[i] * t.stride(i);
        }
        return host[(int) o];
    }

    @Test
    void contiguousTensorHasRowMajorStrides() {
        Tensor t = Tensor.of(buf, 2, 3, 4, 5);
        assertArrayEquals(new long[] {60, 20, 5, 1}, t.strides());
        assertEquals(120, t.numel());
        assertEquals(120, t.span());
        assertTrue(t.isContiguous());
        assertEquals("(2,3,4,5)", t.toString());
        assertArrayEquals(new int[] {3, 4, 5}, t.sampleShape());
        assertEquals(5, t.dim(-1));
        assertEquals(120, t.data().length());
    }

    @Test
    void reshapeAndFlattenAreViewsOfTheSameElements() {
        Tensor t = Tensor.of(buf, 2, 3, 4, 5);
        Tensor f = t.flatten(1);
        assertArrayEquals(new int[] {2, 60}, f.dims());
        assertEquals(at(t, 1, 2, 3, 4), at(f, 1, 59));
        Tensor r = t.reshape(6, -1);
        assertArrayEquals(new int[] {6, 20}, r.dims());
        assertEquals(at(t, 1, 0, 0, 0), at(r, 3, 0));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(7, -1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(2, 3));
    }

    @Test
    void narrowSelectTransposePermuteReadTheRightElements() {
        Tensor t = Tensor.of(buf, 2, 3, 4, 5);
        Tensor n = t.narrow(2, 1, 2);
        assertArrayEquals(new int[] {2, 3, 2, 5}, n.dims());
        assertEquals(at(t, 1, 2, 2, 3), at(n, 1, 2, 1, 3));
        assertFalse(n.isContiguous());
        assertThrows(IllegalStateException.class, n::data);
        assertThrows(IllegalStateException.class, () -> n.reshape(-1));
        Tensor rows = t.rows(1);
        assertTrue(rows.isContiguous());
        assertEquals(60, rows.data().length());
        Tensor s = t.select(1, 2);
        assertArrayEquals(new int[] {2, 4, 5}, s.dims());
        assertEquals(at(t, 1, 2, 3, 4), at(s, 1, 3, 4));
        Tensor tr = t.transpose(-1, -2);
        assertArrayEquals(new int[] {2, 3, 5, 4}, tr.dims());
        assertEquals(at(t, 1, 1, 3, 2), at(tr, 1, 1, 2, 3));
        Tensor p = t.permute(0, 2, 1, 3);
        assertEquals(at(t, 1, 2, 3, 4), at(p, 1, 3, 2, 4));
        assertEquals(at(t, 1, 2, 3, 4), at(p.permute(0, 2, 1, 3), 1, 2, 3, 4));
        assertTrue(p.permute(0, 2, 1, 3).isContiguous());
        assertEquals(t.span(), tr.span());
        assertThrows(IllegalArgumentException.class, () -> t.permute(0, 0, 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.narrow(0, 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.select(3, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> t.dim(4));
    }

    @Test
    void expandRepeatsWithStrideZero() {
        Tensor w = Tensor.of(buf, 4, 5);
        Tensor e = w.expand(3);
        assertArrayEquals(new long[] {0, 5, 1}, e.strides());
        assertEquals(at(w, 2, 3), at(e, 2, 2, 3));
        assertEquals(20, e.span());
    }

    @Test
    void badTensorsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(buf, 200));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(buf, 2, -1));
        assertThrows(IllegalArgumentException.class, () -> Tensor.of(null, 1));
    }

    @Test
    void gemmShapesComeFromViews() {
        DeviceBuffer b2 = dev.allocFloat(1000);
        Tensor a = Tensor.of(buf, 6, 20);           // (M,K)
        Tensor w = Tensor.of(b2, 8, 20);            // (N,K) stored, used transposed
        Tensor c = Tensor.of(dev.allocFloat(48), 6, 8);
        assertEquals(Gemm.of(6, 8, 20).transposeB(), Tensor.gemm(a, w.transpose(0, 1), c));
        assertEquals(Gemm.of(20, 8, 6).transposeA(), Tensor.gemm(a.transpose(0, 1), Tensor.of(b2, 6, 8),
                Tensor.of(dev.allocFloat(160), 20, 8)));
        // a batch of 3 products sharing B (stride 0), A and C dense per entry
        Tensor ab = Tensor.of(buf, 3, 4, 10);
        Tensor cb = Tensor.of(dev.allocFloat(3 * 4 * 7), 3, 4, 7);
        Gemm g = Tensor.gemm(ab, Tensor.of(b2, 10, 7).expand(3), cb);
        assertEquals(Gemm.of(4, 7, 10).batched(3, 40, 0, 28), g);
        assertEquals(g, Tensor.gemm(ab, Tensor.of(b2, 10, 7), cb));
        // heads: (B,H,T,D) with (B,H) collapsing to one stride
        Tensor q = Tensor.of(buf, 2, 3, 4, 5);
        Tensor kt = Tensor.of(b2, 2, 3, 4, 5).transpose(-1, -2);
        Tensor s = Tensor.of(dev.allocFloat(2 * 3 * 16), 2, 3, 4, 4);
        assertEquals(Gemm.of(4, 4, 5).transposeB().batched(6, 20, 20, 16), Tensor.gemm(q, kt, s));
        assertThrows(IllegalArgumentException.class, () -> Tensor.gemm(a, Tensor.of(b2, 7, 8), c));
        assertThrows(IllegalArgumentException.class, () -> Tensor.gemm(q.permute(0, 2, 1, 3), kt, s));
        assertThrows(IllegalArgumentException.class, () -> Tensor.gemm(a, w.transpose(0, 1), c.transpose(0, 1)));
    }

    /** Attention-style scores from views: s (B,H,T,T) = q (B,H,T,D) k^T, k read through a transposed view. */
    @Test
    void matmulOnViewsComputesTheBatchedProduct() {
        int b = 2;
        int h = 3;
        int t = 4;
        int d = 5;
        Random r = new Random();
        double[] q = new double[b * h * t * d];
        double[] k = new double[q.length];
        for (int i = 0; i < q.length; i++) {
            q[i] = r.nextDouble() - 0.5;
            k[i] = r.nextDouble() - 0.5;
        }
        DeviceBuffer qb = dev.allocFloat(q.length);
        DeviceBuffer kb = dev.allocFloat(k.length);
        DeviceBuffer sb = dev.allocFloat((long) b * h * t * t);
        dev.upload(q, qb);
        dev.upload(k, kb);
        Tensor qt = Tensor.of(qb, b, h, t, d);
        Tensor kt = Tensor.of(kb, b, h, t, d).transpose(-1, -2);
        Tensor st = Tensor.of(sb, b, h, t, t);
        dev.run(MatmulOps.matmul(qt, kt, null, Activation.IDENTITY, st, null));
        double[] got = new double[b * h * t * t];
        dev.download(sb, got);
        for (int e = 0; e < b * h; e++) {
            for (int i = 0; i < t; i++) {
                for (int j = 0; j < t; j++) {
                    double want = 0;
                    for (int x = 0; x < d; x++) {
                        want += q[(e * t + i) * d + x] * k[(e * t + j) * d + x];
                    }
                    assertEquals(want, got[(e * t + i) * t + j], 1e-12);
                }
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> MatmulOps.matmul(qt, kt, null, Activation.RELU, st, Tensor.of(sb, b, h, t, t - 1)));
    }
}
