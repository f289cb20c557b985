package dev.salvo.device.ops;

import dev.salvo.device.Activation;
import dev.salvo.device.Gemm;
import dev.salvo.device.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The sample calls of {@link MatmulOps#MATMUL} and their inputs: depths K in {1, 7, 64, 1000, 4097}
 * on shapes that are multiples of no tile, every transpose, the epilogue with each activation,
 * zero-size dimensions, batches with dense, shared (stride 0), gapped and overlapping layouts,
 * overwriting and accumulating (beta 1).
 */
final class MatmulSamples {

    private MatmulSamples() {
    }

    static List<Op.Sample> samples(Op op, Random r) {
        List<Op.Sample> list = new ArrayList<>();
        int[][] mn = {{1, 1}, {5, 3}, {33, 17}, {97, 130}, {6, 32}, {13, 65}};
        int i = 0;
        for (int k : new int[] {1, 7, 64, 1000, 4097}) {
            for (int[] s : mn) {
                if (k == 4097 && s[0] * s[1] > 2000) {
                    continue; // keep the reference loop quick
                }
                add(list, op, r, new Gemm(s[0], s[1], k, (i & 1) != 0, (i & 2) != 0), false, Activation.IDENTITY, false);
                i++;
            }
        }
        for (int t = 0; t < 4; t++) {
            add(list, op, r, new Gemm(129, 70, 300, (t & 1) != 0, (t & 2) != 0), false, Activation.IDENTITY, false);
        }
        for (Activation act : Activation.values()) {
            add(list, op, r, new Gemm(37, 29, 71, false, true), true, act, true);
        }
        add(list, op, r, new Gemm(37, 29, 71, true, false), false, Activation.RELU, true);
        // zero-size dimensions; K = 0 gives the bias (or the old z)
        add(list, op, r, new Gemm(0, 5, 3, false, false), true, Activation.IDENTITY, false);
        add(list, op, r, new Gemm(4, 0, 3, false, true), true, Activation.IDENTITY, false);
        add(list, op, r, new Gemm(3, 4, 0, true, false), true, Activation.IDENTITY, false);
        add(list, op, r, new Gemm(4, 6, 0, false, true), true, Activation.IDENTITY, false);
        for (int beta = 0; beta <= 1; beta++) {
            for (Gemm g : List.of(new Gemm(0, 5, 3, false, false), new Gemm(4, 0, 3, false, true),
                    new Gemm(3, 4, 0, true, false), new Gemm(6, 2, 0, false, false))) {
                Gemm b = layout(g, 3, 3);
                add(list, op, r, beta == 1 ? b.accumulate() : b, true, Activation.RELU, true);
            }
        }
        add(list, op, r, Gemm.of(4, 5, 6).batched(0, 24, 30, 20).accumulate(), true, Activation.RELU, true);
        // batches: every K and transpose, cycling through the layouts, beta and the epilogue
        int[][] small = {{5, 3}, {13, 17}, {33, 17}, {1, 20}, {19, 1}};
        int c = 0;
        for (int k : new int[] {1, 7, 64, 1000}) {
            for (int t = 0; t < 4; t++) {
                for (int batch : new int[] {1, 3, 17}) {
                    int[] s = small[c % small.length];
                    Gemm g = layout(new Gemm(s[0], s[1], k, (t & 1) != 0, (t & 2) != 0), batch, c % 5);
                    if ((c / 5) % 2 == 1) {
                        g = g.accumulate();
                    }
                    boolean relu = c % 3 == 1;
                    add(list, op, r, g, c % 3 != 0, relu ? Activation.RELU : Activation.IDENTITY, relu);
                    c++;
                }
            }
        }
        return list;
    }

    /** Layout {@code mode}: 0 dense, 1 shared A, 2 shared B, 3 gaps everywhere, 4 overlapping A and shared B. */
    static Gemm layout(Gemm g, int batch, int mode) {
        long a = g.aMatrixLength();
        long b = g.bMatrixLength();
        long c = g.cMatrixLength();
        return switch (mode) {
            case 0 -> g.batched(batch);
            case 1 -> g.batched(batch, 0, b + 2, c);
            case 2 -> g.batched(batch, a, 0, c + 5);
            case 3 -> g.batched(batch, a + 3, b + 7, c + 11);
            default -> g.batched(batch, Math.max(1, a / 2), 0, c + 1);
        };
    }

    private static void add(List<Op.Sample> list, Op op, Random r, Gemm g, boolean bias, Activation act, boolean y) {
        list.add(op.sample(label(g, bias, act, y), r, MatmulOps.ints(g, bias, act, y)));
    }

    static String label(Gemm g, boolean bias, Activation act, boolean y) {
        return g.m() + "x" + g.n() + "x" + g.k() + (g.transA() ? " A^T" : "") + (g.transB() ? " B^T" : "")
                + (g.batch() == 1 ? "" : " batch " + g.batch() + " strides " + g.strideA() + "/" + g.strideB() + "/" + g.strideC())
                + (g.accumulates() ? " beta 1" : "") + (bias ? " +bias" : "") + (y ? " y=" + act.cliName() : "");
    }

    /** Uniform in [-1, 1) in the entries ({@code batch} matrices at {@code stride}), NaN between them. */
    static double[] operand(Random r, int length, int batch, long stride, long matrix) {
        boolean[] in = entries(length, batch, stride, matrix);
        double[] x = new double[length];
        for (int i = 0; i < length; i++) {
            x[i] = in[i] ? 2 * r.nextDouble() - 1 : Double.NaN;
        }
        return x;
    }

    /**
     * The z a call starts from: in the entries, uniform in [-1, 1) when it accumulates and NaN
     * when it overwrites (beta 0 must never read it); between them, values that must come back bit
     * for bit.
     */
    static double[] z(Random r, int length, Gemm g) {
        boolean[] in = entries(length, g.batch(), g.strideC(), g.cMatrixLength());
        double[] x = new double[length];
        for (int i = 0; i < length; i++) {
            x[i] = in[i] && !g.accumulates() ? Double.NaN : 2 * r.nextDouble() - 1;
        }
        return x;
    }

    private static boolean[] entries(int length, int batch, long stride, long matrix) {
        boolean[] in = new boolean[length];
        for (int e = 0; e < batch; e++) {
            Arrays.fill(in, (int) (e * stride), (int) (e * stride + matrix), true);
        }
        return in;
    }
}
