package dev.salvo.device;

/**
 * Philox4x32-10, the counter-based generator of Salmon, Moraes, Dror and Shaw, "Parallel random
 * numbers: as easy as 1, 2, 3" (SC 2011), with the constants of Random123, cuRAND and PyTorch:
 * multipliers {@code 0xD2511F53}, {@code 0xCD9E8D57}, Weyl key increments {@code 0x9E3779B9},
 * {@code 0xBB67AE85}, 10 rounds. A 128-bit counter and a 64-bit key give four 32-bit words; the
 * same (key, counter) gives the same words on every provider, since it is only 32-bit integer
 * arithmetic (the kernels' {@code philox4x32_10} in {@code kernels/random.kernel} is the same
 * function). Words are Java {@code int}s holding the unsigned 32-bit values.
 */
public final class Philox {

    /** Round multipliers. */
    public static final int M0 = 0xD2511F53;
    public static final int M1 = 0xCD9E8D57;
    /** Key increments (the golden ratio and sqrt(3) - 1, as 32-bit fractions). */
    public static final int W0 = 0x9E3779B9;
    public static final int W1 = 0xBB67AE85;
    /** Rounds. */
    public static final int ROUNDS = 10;

    private Philox() {
    }

    /** The four words for key {@code (key0, key1)} and counter {@code (c0, c1, c2, c3)}. */
    public static int[] block(int key0, int key1, int c0, int c1, int c2, int c3) {
        int[] out = new int[4];
        block(key0, key1, c0, c1, c2, c3, out, 0);
        return out;
    }

    /** As {@link #block(int, int, int, int, int, int)}, into {@code out[at .. at+3]} (allocates nothing). */
    public static void block(int key0, int key1, int c0, int c1, int c2, int c3, int[] out, int at) {
        int k0 = key0;
        int k1 = key1;
        for (int round = 0; round < ROUNDS; round++) {
            if (round > 0) {
                k0 += W0;
                k1 += W1;
            }
            long p0 = (M0 & 0xFFFF_FFFFL) * (c0 & 0xFFFF_FFFFL);
            long p1 = (M1 & 0xFFFF_FFFFL) * (c2 & 0xFFFF_FFFFL);
            int hi0 = (int) (p0 >>> 32);
            int hi1 = (int) (p1 >>> 32);
            int n0 = hi1 ^ c1 ^ k0;
            int n2 = hi0 ^ c3 ^ k1;
            c1 = (int) p1;
            c3 = (int) p0;
            c0 = n0;
            c2 = n2;
        }
        out[at] = c0;
        out[at + 1] = c1;
        out[at + 2] = c2;
        out[at + 3] = c3;
    }

    /** A word as a float in [0, 1): its top 24 bits times 2^-24 (exact in float32). */
    public static float unit(int word) {
        return (word >>> 8) * 0x1p-24f;
    }

    /**
     * Dropout's keep decision for element {@code i} (key {@code (seed0, seed1)}, counter
     * {@code (i / 4, step, 0, 0)}, word {@code i % 4}) given that element's block {@code w} from
     * {@code at}: kept when {@code unit(word) >= pf}, compared in float32.
     */
    public static boolean keep(int[] w, int at, int i, float pf) {
        return unit(w[at + (i & 3)]) >= pf;
    }
}
