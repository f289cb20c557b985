package dev.salvo.device.ops;

import dev.salvo.device.Activation;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.ReferenceOps;
import java.util.List;
import java.util.Random;

/**
 * The matrix product with its fused epilogue ({@code kernels/matmul.kernel}, and on CUDA with
 * tensor cores on {@code kernels/matmul_tf32.kernel}): for every entry e of a batched {@link Gemm},
 * {@code z_e (M,N) = op(a_e) op(b_e) + bias [+ z_e when beta = 1]}, then {@code y_e = act(z_e)}
 * when y is given. a is (M,K), or (K,M) when transposed; b is (K,N), or (N,K); {@code bias (N)} is
 * shared by every entry; y is at z's stride. K = 0 gives {@code z = bias} (or zeros, or the old z).
 * Elements between entries are never touched; with beta 0 z is never read. Build calls with
 * {@link #matmul}.
 */
public final class MatmulOps {

    private MatmulOps() {
    }

    /** Int slots of {@link #MATMUL}. */
    static final int M = 0, N = 1, K = 2, TRANS_A = 3, TRANS_B = 4, HAS_BIAS = 5, ACT = 6, HAS_Y = 7, BATCH = 8,
            STRIDE_A = 9, STRIDE_B = 10, STRIDE_C = 11, BETA = 12;
    /** Buffer slots of {@link #MATMUL}. */
    static final int A = 0, B = 1, BIAS = 2, Z = 3, Y = 4;

    /** Work-groups along the batch dimension at most (CUDA's grid limit in z); more entries loop (see matmul.kernel). */
    public static final int MAX_BATCH_GROUPS = 65535;

    /** Edge of matmul_tf32's square block tile and its threads per block (see matmul_tf32.kernel). */
    static final int TF32_TILE = 128;
    static final int TF32_THREADS = 256;

    /**
     * The product and epilogue. Ints {@code transA, transB, hasBias, hasY} are 0 or 1, {@code act}
     * an {@link Activation} ordinal (IDENTITY unless hasY), {@code beta} 0 or 1; the strides are
     * elements between entries (0 shares the operand; passed as 0 when {@code batch <= 1}).
     */
    public static final Op MATMUL = new Op("matmul", "matmul",
            "int m, int n, int k, int transA, int transB, in a, in b, in? bias, int hasBias, int act, inout z, out? y, int hasY,"
                    + " int batch, int strideA, int strideB, int strideC, int beta") {

        @Override
        public long[] lengths(int[] n) {
            long c = span(n[BATCH], n[STRIDE_C], (long) n[M] * n[N]);
            return new long[] {span(n[BATCH], n[STRIDE_A], (long) n[M] * n[K]), span(n[BATCH], n[STRIDE_B], (long) n[K] * n[N]),
                    n[HAS_BIAS] != 0 ? n[N] : 0, c, n[HAS_Y] != 0 ? c : 0};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            for (String flag : new String[] {"transA", "transB", "hasBias", "hasY", "beta"}) {
                if (n[intSlot(flag)] > 1) {
                    throw new IllegalArgumentException("matmul: " + flag + " must be 0 or 1, got " + n[intSlot(flag)]);
                }
            }
            if (n[ACT] >= Activation.values().length) {
                throw new IllegalArgumentException("matmul: act " + n[ACT] + " is no activation");
            }
            if (n[HAS_Y] == 0 && n[ACT] != Activation.IDENTITY.ordinal()) {
                throw new IllegalArgumentException("matmul: activation " + Activation.values()[n[ACT]] + " needs an output y");
            }
            gemm(n); // the shape's own checks: strides of entries that would overwrite each other
        }

        @Override
        public long work(int[] n) {
            return (long) n[M] * n[N] * n[BATCH];
        }

        @Override
        public long[] global(int[] n, Launch t) {
            if (n[M] == 0 || n[N] == 0 || n[BATCH] == 0) {
                return new long[] {0, 0};
            }
            if (tf32(n, t)) {
                return new long[] {ceilDiv(n[N], TF32_TILE) * TF32_THREADS, ceilDiv(n[M], TF32_TILE)};
            }
            long[] xy = tiles(n, t);
            // the batch on the third dimension, one work-group deep; each group z loops over its entries
            return n[BATCH] > 1 ? new long[] {xy[0], xy[1], Math.min(n[BATCH], MAX_BATCH_GROUPS)} : xy;
        }

        @Override
        public long[] local(int[] n, Launch t) {
            if (tf32(n, t)) {
                return new long[] {TF32_THREADS, 1};
            }
            long[] l = t.mmLocal() == 2 ? new long[] {16, 16}
                    : t.mmLocal() == 1 ? new long[] {t.tile(), t.tile()} : new long[] {t.mmWgx(), t.mmWgy()};
            return n[BATCH] > 1 ? new long[] {l[0], l[1], 1} : l;
        }

        /** matmul_tf32 computes one product without accumulation: batched or accumulating calls stay on FP32 products. */
        @Override
        public String entry(int[] n, Launch t) {
            return tf32(n, t) ? "matmul_tf32" : name();
        }

        @Override
        public void reference(RefArgs a) {
            Gemm g = gemm(a.n);
            boolean bias = a.n[HAS_BIAS] != 0;
            ReferenceOps.matmul(g, a.f[A], a.off[A], a.f[B], a.off[B], bias ? a.f[BIAS] : null, bias ? a.off[BIAS] : 0,
                    a.f[Z], a.off[Z]);
            if (a.n[HAS_Y] != 0) {
                Activation act = Activation.values()[a.n[ACT]];
                long len = g.cMatrixLength();
                for (int e = 0; e < g.batch(); e++) {
                    long at = e * g.strideC();
                    for (int i = 0; i < len; i++) {
                        a.f[Y][(int) (a.off[Y] + at + i)] = act.apply(a.f[Z][(int) (a.off[Z] + at + i)]);
                    }
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.MatrixProduct(MatmulOps::gemm, 0, "a sum of K products per element (Tolerance.gemm)");
        }

        /** Multiply-adds times two over the whole batch ({@link Gemm#flops()}; allocates nothing, the timing device calls it per run). */
        @Override
        public double flops(int[] n) {
            return 2.0 * n[M] * n[N] * n[K] * n[BATCH];
        }

        @Override
        public List<Sample> samples(Random r) {
            return MatmulSamples.samples(this, r);
        }

        /** a and b: random in the entries, NaN between (reading there poisons a result); z: see {@link MatmulSamples#z}. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            Gemm g = gemm(n);
            return switch (b) {
                case A -> MatmulSamples.operand(r, length, g.batch(), g.strideA(), g.aMatrixLength());
                case B -> MatmulSamples.operand(r, length, g.batch(), g.strideB(), g.bMatrixLength());
                case Z -> MatmulSamples.z(r, length, g);
                default -> super.input(b, length, n, r);
            };
        }
    };

    public static final List<Op> ALL = List.of(MATMUL);

    /** True when the call runs on tensor cores: the device allows it, one product, no accumulation. */
    private static boolean tf32(int[] n, Op.Launch t) {
        return t.tensorCores() && n[BATCH] == 1 && n[BETA] == 0;
    }

    /**
     * The matmul work-items along x and y, before rounding up to the work-group (see matmul.kernel):
     * 128 x 128 blocks of 16 x 16 items ({@code mmLocal} 2), one item per element ({@code mmLocal} 1),
     * or register blocks of the dot or the outer path ({@code mmLocal} 0).
     */
    static long[] tiles(int[] n, Op.Launch t) {
        int m = n[M];
        int cols = n[N];
        if (t.mmLocal() == 2) {
            return new long[] {ceilDiv(cols, 128) * 16, ceilDiv(m, 128) * 16};
        }
        if (t.mmLocal() == 1) {
            return new long[] {cols, m};
        }
        boolean dot = n[TRANS_A] == 0 && n[TRANS_B] != 0;
        long h = dot ? t.mmDotm() : t.mmWptm();
        long w = dot ? t.mmDotn() : t.mmWptn();
        long gx = (cols + t.mmWgx() * w - 1) / (t.mmWgx() * w);
        long gy = (m + t.mmWgy() * h - 1) / (t.mmWgy() * h);
        return new long[] {gx * t.mmWgx(), gy * t.mmWgy()};
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** Elements a batch of {@code batch} matrices of {@code matrix} elements at {@code stride} spans. */
    private static long span(int batch, long stride, long matrix) {
        return batch == 0 ? 0 : (batch - 1) * stride + matrix;
    }

    /** The {@link Gemm} of a call's ints (strides of one-entry calls are 0). */
    public static Gemm gemm(int[] n) {
        return new Gemm(n[M], n[N], n[K], n[TRANS_A] != 0, n[TRANS_B] != 0, n[BATCH], n[STRIDE_A], n[STRIDE_B], n[STRIDE_C],
                n[BETA]);
    }

    /** The ints of a call of shape {@code g}: strides as the kernel's 32-bit ints, 0 when the call has one entry. */
    static int[] ints(Gemm g, boolean bias, Activation act, boolean y) {
        boolean many = g.batch() > 1;
        return new int[] {g.m(), g.n(), g.k(), g.transA() ? 1 : 0, g.transB() ? 1 : 0, bias ? 1 : 0, act.ordinal(), y ? 1 : 0,
                g.batch(), many ? stride(g.strideA(), "strideA") : 0, many ? stride(g.strideB(), "strideB") : 0,
                many ? stride(g.strideC(), "strideC") : 0, g.beta()};
    }

    /** A stride as the kernel's 32-bit int; any stride of an accepted call fits (buffers hold at most 2^31-1 elements). */
    private static int stride(long s, String name) {
        if (s > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("matmul: " + name + " " + s + " exceeds the kernels' 32-bit indices");
        }
        return (int) s;
    }

    /** A sample call of shape {@code g} with fresh inputs from {@code r} (see {@link Op#sample}), for tests of other cases than {@link Op#samples}. */
    public static Op.Sample sample(Gemm g, boolean bias, Activation act, boolean y, Random r) {
        return MATMUL.sample(MatmulSamples.label(g, bias, act, y), r, ints(g, bias, act, y));
    }

    /**
     * {@code z <- op(a) op(b) + bias} (bias may be null) for every entry of {@code g} (added to z
     * when g accumulates), then {@code y <- act(z)} when y is not null; y null needs
     * {@link Activation#IDENTITY}. Buffers must hold {@link Gemm#aLength()}... elements.
     */
    public static OpCall matmul(Gemm g, DeviceBuffer a, DeviceBuffer b, DeviceBuffer bias, Activation act, DeviceBuffer z,
                                DeviceBuffer y) {
        if (y == null && act != Activation.IDENTITY) {
            throw new IllegalArgumentException("matmul: activation " + act + " needs an output y");
        }
        return MATMUL.call(new DeviceBuffer[] {a, b, bias, z, y}, ints(g, bias != null, act, y != null));
    }

    /**
     * {@code z = a b + bias}, then {@code y = act(z)}, for views: the shape, transposes and batch
     * strides come from the views ({@link Tensor#gemm}), each operand as the buffer region it
     * reads. {@code y} (may be null) is laid out like {@code z}.
     */
    public static OpCall matmul(Tensor a, Tensor b, DeviceBuffer bias, Activation act, Tensor z, Tensor y) {
        Gemm g = Tensor.gemm(a, b, z);
        if (y != null && !java.util.Arrays.equals(y.dims(), z.dims())) {
            throw new IllegalArgumentException("matmul: y " + y + " must be shaped like z " + z);
        }
        return matmul(g, a.region(), b.region(), bias, act, z.region(), y == null ? null : y.region());
    }
}
