package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/conv.kernel} ({@link dev.salvo.device.ops.ConvOps}). Both move rows:
 * the in-bounds range of output columns of a kernel offset is worked out once, so the inner loops
 * are plain copies or adds over contiguous runs (a stride of 1, the common case, is
 * {@link System#arraycopy} for im2col and a unit-stride add for col2im).
 */
final class ConvCpu implements CpuOps.Family {

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "im2col" -> new Im2col(pool);
            case "col2im" -> new Col2im(pool);
            default -> null;
        };
    }

    /** Elements a task should move at least, so that small calls stay on one thread. */
    private static final int GRAIN = 1 << 14;

    /** First output index {@code o >= 0} whose tap {@code o*stride - pad + k} is {@code >= 0}. */
    static int firstIn(int k, int stride, int pad) {
        return Math.max(0, -Math.floorDiv(k - pad, stride));
    }

    /** One past the last output index {@code o < out} whose tap {@code o*stride - pad + k} is {@code < size}. */
    static int endIn(int k, int stride, int pad, int size, int out) {
        return Math.min(out, Math.floorDiv(size - 1 + pad - k, stride) + 1);
    }

    /**
     * col (C*kh*kw, N*oh*ow) from x (N,C,H,W): split over (row, image) segments of oh*ow entries;
     * per segment the in-bounds oy and ox ranges are computed once and each output row is zeros,
     * a copy of an input-row run (strided when stride > 1), zeros.
     */
    private static final class Im2col extends CpuOps.Ranged {
        Im2col(CpuPool pool) {
            super(pool, 1);
        }

        @Override
        int count(CpuOps.Args a) {
            int[] n = a.n;
            return n[1] * n[4] * n[5] * n[0];
        }

        @Override
        int grain(CpuOps.Args a) {
            return GRAIN / Math.max(1, a.n[8] * a.n[9]);
        }

        @Override
        public void run(int from, int to) {
            int[] n = a.n;
            int batch = n[0];
            int c = n[1];
            int h = n[2];
            int w = n[3];
            int kh = n[4];
            int kw = n[5];
            int s = n[6];
            int p = n[7];
            int oh = n[8];
            int ow = n[9];
            float[] x = a.f[0];
            float[] col = a.f[1];
            int cols = batch * oh * ow;
            for (int seg = from; seg < to; seg++) {
                int row = seg / batch;
                int img = seg % batch;
                int j = row % kw;
                int i = (row / kw) % kh;
                int ci = row / (kw * kh);
                int y0 = Math.min(oh, firstIn(i, s, p));
                int y1 = Math.max(y0, endIn(i, s, p, h, oh));
                int x0 = Math.min(ow, firstIn(j, s, p));
                int x1 = Math.max(x0, endIn(j, s, p, w, ow));
                int dst = a.off[1] + row * cols + img * oh * ow;
                int plane = a.off[0] + (img * c + ci) * h * w;
                java.util.Arrays.fill(col, dst, dst + y0 * ow, 0f);
                for (int oy = y0; oy < y1; oy++) {
                    int d = dst + oy * ow;
                    int src = plane + (oy * s - p + i) * w - p + j; // x of ox = 0 (may be outside the row)
                    for (int ox = 0; ox < x0; ox++) {
                        col[d + ox] = 0f;
                    }
                    if (s == 1) {
                        System.arraycopy(x, src + x0, col, d + x0, x1 - x0);
                    } else {
                        for (int ox = x0; ox < x1; ox++) {
                            col[d + ox] = x[src + ox * s];
                        }
                    }
                    for (int ox = x1; ox < ow; ox++) {
                        col[d + ox] = 0f;
                    }
                }
                java.util.Arrays.fill(col, dst + y1 * ow, dst + oh * ow, 0f);
            }
        }
    }

    /**
     * x (N,C,H,W) from col: split over (channel, image range) pairs, which own disjoint planes. A
     * task zeroes its planes, then walks its channel's col rows in order, kernel offset (i, j) by
     * offset, each row's image segments (oh*ow contiguous entries) in order, adding every segment
     * into its plane row by row over the in-bounds oy and ox ranges. So col is read front to back
     * (a plane-by-plane walk reads kh*kw rows far apart at once, which the prefetcher does not
     * follow), and a pixel, meeting each (i, j) at most once, sums its entries in (i, j) order
     * whatever the split (the kernel's gather order).
     */
    private static final class Col2im implements CpuOps.Body, CpuPool.Task {
        private final CpuPool pool;
        private CpuOps.Args a;
        private int imageChunks;

        Col2im(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            int[] n = args.n;
            int batch = n[0];
            int c = n[1];
            if (batch == 0 || c == 0) {
                return;
            }
            long work = (long) batch * c * Math.max(1, n[8] * n[9] * n[4] * n[5]);
            // enough tasks to spread over the pool (and at least GRAIN entries each)
            int tasks = (int) Math.max(1, Math.min(4L * pool.threads(), work / GRAIN));
            imageChunks = Math.min(batch, Math.max(1, ConvCpu.ceilDiv(tasks, c)));
            a = args;
            try {
                pool.run(c * imageChunks, this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int task, int worker) {
            int[] n = a.n;
            int batch = n[0];
            int c = n[1];
            int h = n[2];
            int w = n[3];
            int kh = n[4];
            int kw = n[5];
            int s = n[6];
            int p = n[7];
            int oh = n[8];
            int ow = n[9];
            float[] col = a.f[0];
            float[] x = a.f[1];
            int cols = batch * oh * ow;
            int ci = task / imageChunks;
            int chunk = task % imageChunks;
            int img0 = CpuPool.bound(batch, imageChunks, chunk);
            int img1 = CpuPool.bound(batch, imageChunks, chunk + 1);
            int hw = h * w;
            for (int img = img0; img < img1; img++) {
                int xp = a.off[1] + (img * c + ci) * hw;
                java.util.Arrays.fill(x, xp, xp + hw, 0f);
            }
            for (int i = 0; i < kh; i++) {
                int y0 = Math.min(oh, firstIn(i, s, p));
                int y1 = endIn(i, s, p, h, oh);
                for (int j = 0; j < kw; j++) {
                    int x0 = Math.min(ow, firstIn(j, s, p));
                    int x1 = endIn(j, s, p, w, ow);
                    int row = a.off[0] + ((ci * kh + i) * kw + j) * cols;
                    for (int img = img0; img < img1; img++) {
                        int seg = row + img * oh * ow;
                        int xp = a.off[1] + (img * c + ci) * hw;
                        for (int oy = y0; oy < y1; oy++) {
                            int src = seg + oy * ow;
                            int dst = xp + (oy * s - p + i) * w - p + j; // x of ox = 0 (may be outside the row)
                            if (s == 1) {
                                for (int ox = x0; ox < x1; ox++) {
                                    x[dst + ox] += col[src + ox];
                                }
                            } else {
                                for (int ox = x0; ox < x1; ox++) {
                                    x[dst + ox * s] += col[src + ox];
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }
}
