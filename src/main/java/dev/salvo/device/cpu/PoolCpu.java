package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/pool.kernel} ({@link dev.salvo.device.ops.PoolOps}). Forward ops
 * split over the N x C planes, backward ops over the rows of dx; every element is computed by one
 * task in a fixed order (windows row-major, clipped to the image once per output), so results do
 * not depend on the split. Max pooling with kernel 2, stride 2 and no padding (the common case)
 * has straight-line bodies split over the planes, without branches on the data forward; they give
 * the generic loops' results bit for bit.
 */
final class PoolCpu implements CpuOps.Family {

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "maxpool_forward" -> new Windowed(pool, MAX_FORWARD);
            case "maxpool_backward" -> new Windowed(pool, MAX_BACKWARD);
            case "avgpool_forward" -> new Windowed(pool, AVG_FORWARD);
            case "avgpool_backward" -> new Windowed(pool, AVG_BACKWARD);
            case "global_avgpool_forward" -> new Global(pool, true);
            case "global_avgpool_backward" -> new Global(pool, false);
            default -> null;
        };
    }

    /** Elements of work a task should do at least, so that small calls stay on one thread. */
    private static final int GRAIN = 1 << 14;

    private static final int MAX_FORWARD = 0;
    private static final int MAX_BACKWARD = 1;
    private static final int AVG_FORWARD = 2;
    private static final int AVG_BACKWARD = 3;

    /** {@code ceil(a / b)} for {@code b > 0}, any sign of {@code a}. */
    private static int ceilDiv(int a, int b) {
        return -Math.floorDiv(-a, b);
    }

    /** The four windowed ops (ints: batch, c, h, w, k, stride, pad, oh, ow). */
    private static final class Windowed extends CpuOps.Ranged {
        private final int kind;

        Windowed(CpuPool pool, int kind) {
            super(pool, 1);
            this.kind = kind;
        }

        /** The call is max pooling in the common 2x2, stride 2, no padding case with every window inside the image. */
        private boolean pair(int[] n) {
            return (kind == MAX_FORWARD || kind == MAX_BACKWARD) && isPair(n);
        }

        /** The N x C planes (pair and forward) or the N x C x H rows of dx (generic backward). */
        @Override
        int count(CpuOps.Args a) {
            int[] n = a.n;
            int planes = n[0] * n[1];
            // pair: over the planes (MAX_BACKWARD too: no window crosses a plane)
            return pair(n) || kind == MAX_FORWARD || kind == AVG_FORWARD ? planes : planes * n[2];
        }

        @Override
        int grain(CpuOps.Args a) {
            int[] n = a.n;
            if (pair(n)) {
                return GRAIN / Math.max(1, n[2] * n[3]);
            } else if (kind == MAX_FORWARD || kind == AVG_FORWARD) {
                return GRAIN / Math.max(1, n[7] * n[8] * n[4] * n[4]);
            } else {
                return GRAIN / Math.max(1, n[3] * ceilDiv(n[4], n[5]) * ceilDiv(n[4], n[5]));
            }
        }

        @Override
        public void run(int from, int to) {
            if (pair(a.n)) {
                if (kind == MAX_FORWARD) {
                    maxForwardPair(from, to);
                } else {
                    maxBackwardPair(from, to);
                }
                return;
            }
            switch (kind) {
                case MAX_FORWARD -> maxForward(from, to);
                case AVG_FORWARD -> avgForward(from, to);
                default -> backward(from, to);
            }
        }

        private void maxForward(int from, int to) {
            int[] n = a.n;
            int h = n[2];
            int w = n[3];
            int k = n[4];
            int s = n[5];
            int p = n[6];
            int oh = n[7];
            int ow = n[8];
            float[] x = a.f[0];
            float[] y = a.f[1];
            int[] idx = a.i[2];
            for (int plane = from; plane < to; plane++) {
                int xo = a.off[0] + plane * h * w;
                int o = plane * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * s - p);
                    int y1 = Math.min(h, oy * s - p + k);
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int x0 = Math.max(0, ox * s - p);
                        int x1 = Math.min(w, ox * s - p + k);
                        float m = Float.NEGATIVE_INFINITY;
                        int at = y0 * w + x0;
                        for (int iy = y0; iy < y1; iy++) {
                            int row = xo + iy * w;
                            for (int ix = x0; ix < x1; ix++) {
                                float v = x[row + ix];
                                // the first maximum; the first NaN wins and stays (NaN propagates)
                                if (v > m || (v != v && m == m)) {
                                    m = v;
                                    at = iy * w + ix;
                                }
                            }
                        }
                        y[a.off[1] + o] = m;
                        idx[a.off[2] + o] = at;
                    }
                }
            }
        }

        /**
         * Max pooling forward for kernel 2, stride 2, no padding (planes {@code [from, to)}), without
         * branches on the data: a window without NaN (its sum is not NaN: the one branch, almost
         * always taken) takes the first maximum under {@code >} with conditional moves; otherwise
         * each value is mapped to an int {@link #key} that orders like the float comparison, with
         * -0 equal to +0 and every NaN above +inf and equal to each other, so the first maximum
         * under {@code >} on the keys is exactly the generic loop's choice (the first maximum; the
         * first NaN wins). The output is the input element at that index (bits kept: -0 stays -0,
         * NaN payloads stay).
         */
        private void maxForwardPair(int from, int to) {
            int[] n = a.n;
            int h = n[2];
            int w = n[3];
            int oh = n[7];
            int ow = n[8];
            float[] x = a.f[0];
            float[] y = a.f[1];
            int[] idx = a.i[2];
            for (int plane = from; plane < to; plane++) {
                int xo = a.off[0] + plane * h * w;
                int o = plane * oh * ow;
                int yo = a.off[1] + o;
                int io = a.off[2] + o;
                for (int oy = 0; oy < oh; oy++) {
                    int base = 2 * oy * w;
                    int r0 = xo + base;
                    for (int ox = 0; ox < ow; ox++) {
                        int t = r0 + 2 * ox;
                        float va = x[t];
                        float vb = x[t + 1];
                        float vc = x[t + w];
                        float vd = x[t + w + 1];
                        int off;
                        float sum = (va + vb) + (vc + vd);
                        if (sum == sum) {
                            // no NaN: the first maximum under >; Math.max only feeds the comparisons
                            // (its +0 for a -0/+0 tie compares as the -0 would)
                            off = vb > va ? 1 : 0;
                            float m = Math.max(va, vb);
                            off = vc > m ? w : off;
                            m = Math.max(m, vc);
                            off = vd > m ? w + 1 : off;
                        } else {
                            // a NaN (or +inf and -inf): compare keys, where every NaN is the largest
                            int m = key(va);
                            int kb = key(vb);
                            int kc = key(vc);
                            int kd = key(vd);
                            off = kb > m ? 1 : 0;
                            m = Math.max(m, kb);
                            off = kc > m ? w : off;
                            m = Math.max(m, kc);
                            off = kd > m ? w + 1 : off;
                        }
                        int at = base + 2 * ox + off;
                        y[yo++] = x[xo + at];
                        idx[io++] = at;
                    }
                }
            }
        }

        /**
         * Max pooling backward for kernel 2, stride 2, no padding, planes {@code [from, to)}: the
         * plane of dx is zeroed and every output adds its gradient at its index if that lies in
         * its window's two rows, in (oy, ox) order: the generic loop's sums, element for element.
         */
        private void maxBackwardPair(int from, int to) {
            int[] n = a.n;
            int h = n[2];
            int w = n[3];
            int oh = n[7];
            int ow = n[8];
            float[] dy = a.f[0];
            int[] idx = a.i[1];
            float[] dx = a.f[2];
            int span = 2 * w;
            for (int plane = from; plane < to; plane++) {
                int d = a.off[2] + plane * h * w;
                java.util.Arrays.fill(dx, d, d + h * w, 0f);
                int o = a.off[0] + plane * oh * ow;
                int io = a.off[1] + plane * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int base = 2 * oy * w;
                    for (int ox = 0; ox < ow; ox++) {
                        int r = idx[io++] - base;
                        float g = dy[o++];
                        if (r >= 0 && r < span) {
                            dx[d + base + r] += g;
                        }
                    }
                }
            }
        }

        private void avgForward(int from, int to) {
            int[] n = a.n;
            int h = n[2];
            int w = n[3];
            int k = n[4];
            int s = n[5];
            int p = n[6];
            int oh = n[7];
            int ow = n[8];
            float kk = (float) k * k;
            float[] x = a.f[0];
            float[] y = a.f[1];
            for (int plane = from; plane < to; plane++) {
                int xo = a.off[0] + plane * h * w;
                int o = a.off[1] + plane * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int y0 = Math.max(0, oy * s - p);
                    int y1 = Math.min(h, oy * s - p + k);
                    for (int ox = 0; ox < ow; ox++, o++) {
                        int x0 = Math.max(0, ox * s - p);
                        int x1 = Math.min(w, ox * s - p + k);
                        float sum = 0f;
                        for (int iy = y0; iy < y1; iy++) {
                            int row = xo + iy * w;
                            for (int ix = x0; ix < x1; ix++) {
                                sum += x[row + ix];
                            }
                        }
                        y[o] = sum / kk;
                    }
                }
            }
        }

        /**
         * dx rows {@code [from, to)} of the N x C x H rows. A row is owned by one task: it is
         * zeroed, then the outputs whose windows cover it (oy, then ox ascending) add into it,
         * max pooling only where idx names an element of the row, average pooling over the
         * window's clipped columns, the row divided by k*k at the end. Each element thus sums its
         * terms in (oy, ox) order whatever the split, like the kernel's gather.
         */
        private void backward(int from, int to) {
            int[] n = a.n;
            int h = n[2];
            int w = n[3];
            int k = n[4];
            int s = n[5];
            int p = n[6];
            int oh = n[7];
            int ow = n[8];
            boolean max = kind == MAX_BACKWARD;
            float kk = (float) k * k;
            float[] dy = a.f[0];
            int[] idx = max ? a.i[1] : null;
            float[] dx = max ? a.f[2] : a.f[1];
            int dxo = max ? a.off[2] : a.off[1];
            for (int r = from; r < to; r++) {
                int iy = r % h;
                int plane = r / h;
                int oy0 = Math.max(0, ceilDiv(iy + p - k + 1, s));
                int oy1 = Math.min(oh, Math.floorDiv(iy + p, s) + 1);
                int d = dxo + r * w;
                java.util.Arrays.fill(dx, d, d + w, 0f);
                for (int oy = oy0; oy < oy1; oy++) {
                    int o = a.off[0] + (plane * oh + oy) * ow;
                    if (max) {
                        int io = a.off[1] + (plane * oh + oy) * ow;
                        int rowStart = iy * w;
                        for (int ox = 0; ox < ow; ox++) {
                            int col = idx[io + ox] - rowStart;
                            if (col >= 0 && col < w) {
                                dx[d + col] += dy[o + ox];
                            }
                        }
                    } else {
                        for (int ox = 0; ox < ow; ox++) {
                            float g = dy[o + ox];
                            int x1 = Math.min(w, ox * s - p + k);
                            for (int ix = Math.max(0, ox * s - p); ix < x1; ix++) {
                                dx[d + ix] += g;
                            }
                        }
                    }
                }
                if (!max) {
                    for (int ix = 0; ix < w; ix++) {
                        dx[d + ix] = dx[d + ix] / kk;
                    }
                }
            }
        }
    }

    /** True for kernel 2, stride 2, pad 0 with every window inside the image (ints as in {@link Windowed}). */
    private static boolean isPair(int[] n) {
        return n[4] == 2 && n[5] == 2 && n[6] == 0 && 2 * n[7] <= n[2] && 2 * n[8] <= n[3];
    }

    /**
     * An int that orders like the float under {@code >}: +0 for either zero, the sign-magnitude
     * bits flipped to two's complement order otherwise, and {@link Integer#MAX_VALUE} for every
     * NaN (above +inf, and all NaNs equal, so the first one stays the maximum).
     */
    static int key(float v) {
        int b = Float.floatToRawIntBits(v + 0f); // -0 + 0 = +0
        int ordered = b ^ ((b >> 31) & 0x7fffffff);
        int nan = (0x7f800000 - (b & 0x7fffffff)) >> 31; // all ones for NaN
        return (ordered & ~nan) | (nan & Integer.MAX_VALUE);
    }

    /** Global average pooling (ints: batch, c, s), split over the N x C planes. */
    private static final class Global extends CpuOps.Ranged {
        private final boolean forward;

        Global(CpuPool pool, boolean forward) {
            super(pool, 1);
            this.forward = forward;
        }

        @Override
        int count(CpuOps.Args a) {
            return a.n[0] * a.n[1];
        }

        @Override
        int grain(CpuOps.Args a) {
            return GRAIN / Math.max(1, a.n[2]);
        }

        @Override
        public void run(int from, int to) {
            int s = a.n[2];
            float fs = s;
            float[] in = a.f[0];
            float[] out = a.f[1];
            for (int plane = from; plane < to; plane++) {
                if (forward) {
                    int xo = a.off[0] + plane * s;
                    float sum = 0f;
                    for (int k = 0; k < s; k++) {
                        sum += in[xo + k];
                    }
                    out[a.off[1] + plane] = sum / fs;
                } else {
                    float g = in[a.off[0] + plane] / fs;
                    java.util.Arrays.fill(out, a.off[1] + plane * s, a.off[1] + (plane + 1) * s, g);
                }
            }
        }
    }
}
