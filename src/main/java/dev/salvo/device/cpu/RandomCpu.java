package dev.salvo.device.cpu;

import dev.salvo.device.Philox;

/** CPU bodies of {@code kernels/random.kernel} ({@link dev.salvo.device.ops.RandomOps}). */
final class RandomCpu implements CpuOps.Family {

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return switch (name) {
            case "dropout_forward", "dropout_backward" -> new Dropout(pool);
            case "hflip" -> new HFlip(pool);
            default -> null;
        };
    }

    /**
     * {@code b = a * (keep ? scale : 0)} (forward: x to y; backward: dy to dx, the same mask). The
     * Philox blocks of 4 elements are split in contiguous chunks; each worker draws into its own
     * 4 words of scratch, so nothing is allocated per call.
     */
    private static final class Dropout implements CpuOps.Body, CpuPool.Task {
        private static final int GRAIN = 1 << 12; // blocks of 4 elements per chunk, at least

        private final CpuPool pool;
        private final int[] words;
        private CpuOps.Args a;
        private int chunks;
        private int firstBlock;
        private int blocks;
        private float pf;
        private float scale;

        Dropout(CpuPool pool) {
            this.pool = pool;
            this.words = new int[4 * pool.threads()];
        }

        @Override
        public void run(CpuOps.Args args) {
            int n = args.n[0];
            if (n == 0) {
                return;
            }
            a = args;
            pf = (float) args.r[0];
            scale = 1.0f / (1.0f - pf);
            int first = args.n[4];
            firstBlock = first >>> 2;
            blocks = (int) ((first + (long) n + 3) / 4 - firstBlock);
            chunks = Math.max(1, Math.min(pool.threads() * 4, blocks / GRAIN));
            try {
                pool.run(chunks, this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int task, int worker) {
            int n = a.n[0];
            int seed0 = a.n[1];
            int seed1 = a.n[2];
            int step = a.n[3];
            int first = a.n[4];
            float[] x = a.f[0];
            float[] y = a.f[1];
            int xo = a.off[0];
            int yo = a.off[1];
            int[] w = words;
            int at = 4 * worker;
            // kept when unit(word) = (word >>> 8) 2^-24 >= pf, i.e. (word >>> 8) >= ceil(pf 2^24) (both
            // sides exact); the factor is scale or +0 by a bit mask, so y = x * factor exactly as the
            // select would give it (NaN and -0 included), without a branch on the random bits
            int threshold = (int) Math.ceil(pf * 0x1p24f);
            int scaleBits = Float.floatToRawIntBits(scale);
            int to = CpuPool.bound(blocks, chunks, task + 1);
            for (int b = CpuPool.bound(blocks, chunks, task); b < to; b++) {
                int blk = firstBlock + b; // the block of 4 global elements; i0 is its first one's local index
                Philox.block(seed0, seed1, blk, step, 0, 0, w, at);
                int i0 = (blk << 2) - first;
                if (i0 >= 0 && i0 + 4 <= n) {
                    int xi = xo + i0;
                    int yi = yo + i0;
                    y[yi] = x[xi] * factor(w[at], threshold, scaleBits);
                    y[yi + 1] = x[xi + 1] * factor(w[at + 1], threshold, scaleBits);
                    y[yi + 2] = x[xi + 2] * factor(w[at + 2], threshold, scaleBits);
                    y[yi + 3] = x[xi + 3] * factor(w[at + 3], threshold, scaleBits);
                } else { // a shard's first or the last, partial block
                    for (int i = Math.max(i0, 0); i < Math.min(i0 + 4, n); i++) {
                        y[yo + i] = x[xo + i] * factor(w[at + (i - i0)], threshold, scaleBits);
                    }
                }
            }
        }

        /** {@code scale} when the word keeps its element ({@code (word >>> 8) >= threshold}), else +0. */
        private static float factor(int word, int threshold, int scaleBits) {
            int keep = ~(((word >>> 8) - threshold) >> 31);
            return Float.intBitsToFloat(scaleBits & keep);
        }
    }

    /** Mirrors the samples whose draw says so; samples split in chunks, each worker draws into its own 4 words. */
    private static final class HFlip implements CpuOps.Body, CpuPool.Task {
        private final CpuPool pool;
        private final int[] words;
        private CpuOps.Args a;
        private int chunks;

        HFlip(CpuPool pool) {
            this.pool = pool;
            this.words = new int[4 * pool.threads()];
        }

        @Override
        public void run(CpuOps.Args args) {
            if (args.n[0] == 0) {
                return;
            }
            a = args;
            chunks = Math.max(1, Math.min(pool.threads() * 4, args.n[0]));
            try {
                pool.run(chunks, this);
            } finally {
                a = null;
            }
        }

        @Override
        public void run(int task, int worker) {
            int batch = a.n[0];
            int plane = a.n[1] * a.n[2];
            int w = a.n[3];
            float[] x = a.f[0];
            float[] y = a.f[1];
            int at = 4 * worker;
            for (int s = CpuPool.bound(batch, chunks, task); s < CpuPool.bound(batch, chunks, task + 1); s++) {
                int g = a.n[7] + s; // drawn as sample g of the whole batch
                dev.salvo.device.Philox.block(a.n[4], a.n[5], g >>> 2, a.n[6], 1, 0, words, at);
                boolean flip = words[at + (g & 3)] < 0;
                for (int row = 0; row < plane; row++) {
                    int xo = a.off[0] + (s * plane + row) * w;
                    int yo = a.off[1] + (s * plane + row) * w;
                    if (flip) {
                        for (int j = 0; j < w; j++) {
                            y[yo + j] = x[xo + w - 1 - j];
                        }
                    } else {
                        System.arraycopy(x, xo, y, yo, w);
                    }
                }
            }
        }
    }
}
