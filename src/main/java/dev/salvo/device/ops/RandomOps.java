package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.Philox;
import java.util.List;
import java.util.Random;

/**
 * Random ops ({@code kernels/random.kernel}) drawn from the counter-based {@link Philox}
 * generator, so a mask is a pure function of (seed, step, element): nothing is stored between the
 * forward and the backward pass, every provider (and the float64 reference) draws bitwise the same
 * mask, and a resumed run draws the masks of the uninterrupted one.
 *
 * <p>Dropout, element {@code i} of step {@code step}, drawn as element {@code g = first + i} of the
 * whole batch (a data-parallel rank passes the global index of its shard's first element, so the
 * ranks together draw the mask of one process): key {@code (seed0, seed1)}, counter
 * {@code (g / 4, step, 0, 0)}, word {@code g % 4}; {@code u = (word >>> 8) 2^-24}; kept when
 * {@code u >= (float) p}; {@code y = x * (keep ? scale : 0)} with {@code scale = 1 / (1 - p)}
 * computed in float32. A dropped NaN stays NaN (PyTorch multiplies by the mask too).
 */
public final class RandomOps {

    private RandomOps() {
    }

    /** {@code first} (a shard's global index) is at least 0 and {@code first + n} (plus a block's rest) fits an int. */
    static void firstInRange(String op, int first, int n) {
        if (first < 0 || (long) first + n + 3 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(op + ": first = " + first + " must be in [0, 2^31 - 4 - n], n = " + n);
        }
    }

    /** float32 {@code p} and {@code 1 / (1 - p)}, as the devices compute them. */
    static float scale(double p) {
        float pf = (float) p;
        return 1.0f / (1.0f - pf);
    }

    /** The dropout ops: {@code int n, int seed0, int seed1, int step, int first, real p, in a, out b}. */
    private static final class Dropout extends Op {
        Dropout(String name, String signature) {
            super("random", name, signature);
        }

        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0]};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            double p = r[0];
            if (p == 1 || (float) p == 1.0f) {
                throw new IllegalArgumentException(name() + ": p = " + p + " drops every element (1 / (1 - p) is infinite); "
                        + "p must be in [0, 1)");
            }
            if (!(p >= 0 && p < 1)) {
                throw new IllegalArgumentException(name() + ": p must be in [0, 1), got " + p);
            }
            firstInRange(name(), n[4], n[0]);
        }

        /** One work-item per Philox block of 4 global elements that holds one of {@code [first, first + n)}. */
        @Override
        public long work(int[] n) {
            return n[0] == 0 ? 0 : (n[4] + (long) n[0] + 3) / 4 - n[4] / 4;
        }

        @Override
        public void reference(RefArgs a) {
            int count = a.n[0];
            int seed0 = a.n[1];
            int seed1 = a.n[2];
            int step = a.n[3];
            int first = a.n[4];
            float pf = (float) a.r[0];
            double scale = scale(a.r[0]);
            int[] w = new int[4];
            for (int i = 0; i < count; i++) {
                int g = first + i;
                if (i == 0 || (g & 3) == 0) {
                    Philox.block(seed0, seed1, g >>> 2, step, 0, 0, w, 0);
                }
                double m = Philox.keep(w, 0, g, pf) ? scale : 0.0;
                a.f[1][a.off[1] + i] = a.f[0][a.off[0] + i] * m;
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(
                    sample("n=1037 p=0.5 step 0", r, new int[] {1037, 17, 0, 0, 0}, 0.5),
                    sample("n=1037 p=0.5 step 1", r, new int[] {1037, 17, 0, 1, 0}, 0.5),
                    sample("n=4099 p=0.25 step 7, other seed", r, new int[] {4099, -123456789, 0x7eadbeef, 7, 0}, 0.25),
                    sample("n=2 p=0.9", r, new int[] {2, 5, 6, 123, 0}, 0.9),
                    sample("n=30001 p=0.9 step 1000", r, new int[] {30001, 42, 1, 1000, 0}, 0.9),
                    sample("n=13 p=0 keeps all", r, new int[] {13, 1, 2, 3, 0}, 0.0),
                    sample("n=0", r, new int[] {0, 1, 2, 3, 0}, 0.5),
                    sample("n=1037 p=0.5 from element 4101 (a shard)", r, new int[] {1037, 17, 0, 1, 4101}, 0.5),
                    sample("n=2 p=0.5 from element 5, inside one block", r, new int[] {2, 17, 0, 1, 5}, 0.5),
                    sample("n=6 p=0.5 from element 3, over two blocks", r, new int[] {6, 17, 0, 1, 3}, 0.5),
                    sample("n=0 from element 9", r, new int[] {0, 1, 2, 3, 9}, 0.5));
        }
    }

    /** {@code y (n) <- x (n) * mask / (1 - p)}, the mask drawn from (seed0, seed1, step); y may be x. */
    public static final Op DROPOUT_FORWARD = new Dropout("dropout_forward",
            "int n, int seed0, int seed1, int step, int first, real p, in x, out y");

    /** {@code dx (n) <- dy (n) * mask / (1 - p)}: the forward's mask drawn again; dx may be dy. */
    public static final Op DROPOUT_BACKWARD = new Dropout("dropout_backward",
            "int n, int seed0, int seed1, int step, int first, real p, in dy, out dx");

    /**
     * {@code y (N,C,H,W) <- x} with each sample mirrored left-right when its draw says so (data
     * augmentation): sample {@code n} of step {@code step}, drawn as sample {@code g = first + n} of the
     * whole batch, uses key {@code (seed0, seed1)}, counter {@code (g / 4, step, 1, 0)} (the 1 keeps it
     * apart from dropout's counters), word {@code g % 4},
     * and flips when the word's top bit is set (probability 1/2). Its own adjoint: backward runs it
     * on the gradient with the same step. y must not be x.
     */
    public static final Op HFLIP = new Op("random", "hflip",
            "int batch, int c, int h, int w, int seed0, int seed1, int step, int first, in x, out y") {
        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            firstInRange(name(), n[7], n[0]);
        }

        @Override
        public long[] lengths(int[] n) {
            long len = (long) n[0] * n[1] * n[2] * n[3];
            return new long[] {len, len};
        }

        @Override
        public long work(int[] n) {
            return (long) n[0] * n[1] * n[2] * n[3];
        }

        @Override
        public void reference(RefArgs a) {
            int batch = a.n[0];
            int plane = a.n[1] * a.n[2];
            int w = a.n[3];
            int[] words = new int[4];
            for (int s = 0; s < batch; s++) {
                int g = a.n[7] + s;
                Philox.block(a.n[4], a.n[5], g >>> 2, a.n[6], 1, 0, words, 0);
                boolean flip = words[g & 3] < 0;
                for (int row = 0; row < plane; row++) {
                    int base = (s * plane + row) * w;
                    for (int j = 0; j < w; j++) {
                        a.f[1][a.off[1] + base + j] = a.f[0][a.off[0] + base + (flip ? w - 1 - j : j)];
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("9x1x5x7 step 3", r, new int[] {9, 1, 5, 7, 11, 12, 3, 0}),
                    sample("33x3x4x4 step 1000", r, new int[] {33, 3, 4, 4, -5, 77, 1000, 0}),
                    sample("1x2x3x1", r, new int[] {1, 2, 3, 1, 0, 0, 0, 0}),
                    sample("empty", r, new int[] {0, 1, 4, 4, 1, 2, 3, 0}),
                    sample("13x2x3x5 from sample 6 (a shard)", r, new int[] {13, 2, 3, 5, 11, 12, 3, 6}));
        }
    };

    public static final List<Op> ALL = List.of(DROPOUT_FORWARD, DROPOUT_BACKWARD, HFLIP);
}
