package dev.salvo.device.ops;

import dev.salvo.device.Op;
import dev.salvo.device.Philox;
import java.util.List;
import java.util.Random;

/**
 * Random ops ({@code kernels/random.kernel}) drawn from the counter-based {@link Philox}
 * generator, so a mask is a pure function of (seed, step, element): nothing is stored between the
 * forward and the backward pass, every provider (and the float64 reference) draws bitwise the same
 * mask, and a resumed run draws the masks of the uninterrupted one.
 *
 * <p>Dropout, element {@code i} of step {@code step}: key {@code (seed0, seed1)}, counter
 * {@code (i / 4, step, 0, 0)}, word {@code i % 4}; {@code u = (word >>> 8) 2^-24}; kept when
 * {@code u >= (float) p}; {@code y = x * (keep ? scale : 0)} with {@code scale = 1 / (1 - p)}
 * computed in float32. A dropped NaN stays NaN (PyTorch multiplies by the mask too).
 */
public final class RandomOps {

    private RandomOps() {
    }

    /** float32 {@code p} and {@code 1 / (1 - p)}, as the devices compute them. */
    static float scale(double p) {
        float pf = (float) p;
        return 1.0f / (1.0f - pf);
    }

    /** The dropout ops: {@code int n, int seed0, int seed1, int step, real p, in a, out b}. */
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
        }

        /** One work-item per Philox block of 4 elements. */
        @Override
        public long work(int[] n) {
            return (n[0] + 3L) / 4;
        }

        @Override
        public void reference(RefArgs a) {
            int count = a.n[0];
            int seed0 = a.n[1];
            int seed1 = a.n[2];
            int step = a.n[3];
            float pf = (float) a.r[0];
            double scale = scale(a.r[0]);
            int[] w = new int[4];
            for (int i = 0; i < count; i++) {
                if ((i & 3) == 0) {
                    Philox.block(seed0, seed1, i >>> 2, step, 0, 0, w, 0);
                }
                double m = Philox.keep(w, 0, i, pf) ? scale : 0.0;
                a.f[1][a.off[1] + i] = a.f[0][a.off[0] + i] * m;
            }
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(
                    sample("n=1037 p=0.5 step 0", r, new int[] {1037, 17, 0, 0}, 0.5),
                    sample("n=1037 p=0.5 step 1", r, new int[] {1037, 17, 0, 1}, 0.5),
                    sample("n=4099 p=0.25 step 7, other seed", r, new int[] {4099, -123456789, 0x7eadbeef, 7}, 0.25),
                    sample("n=2 p=0.9", r, new int[] {2, 5, 6, 123}, 0.9),
                    sample("n=30001 p=0.9 step 1000", r, new int[] {30001, 42, 1, 1000}, 0.9),
                    sample("n=13 p=0 keeps all", r, new int[] {13, 1, 2, 3}, 0.0),
                    sample("n=0", r, new int[] {0, 1, 2, 3}, 0.5));
        }
    }

    /** {@code y (n) <- x (n) * mask / (1 - p)}, the mask drawn from (seed0, seed1, step); y may be x. */
    public static final Op DROPOUT_FORWARD = new Dropout("dropout_forward",
            "int n, int seed0, int seed1, int step, real p, in x, out y");

    /** {@code dx (n) <- dy (n) * mask / (1 - p)}: the forward's mask drawn again; dx may be dy. */
    public static final Op DROPOUT_BACKWARD = new Dropout("dropout_backward",
            "int n, int seed0, int seed1, int step, real p, in dy, out dx");

    public static final List<Op> ALL = List.of(DROPOUT_FORWARD, DROPOUT_BACKWARD);
}
