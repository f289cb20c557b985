package dev.salvo.device;

import java.util.List;

/**
 * {@link OpCheck}'s comparison under {@link OpTolerance.MatrixProduct}: the output {@code z} of a
 * matmul-shaped op against the reference within {@link Tolerance#gemm}, its activation {@code y}
 * against the activation of the device's own z, and the elements between batch entries untouched.
 */
final class MatrixProductCheck {

    private MatrixProductCheck() {
    }

    /** One result for z and one for y; {@code got} are the device's buffers, {@code ref} the reference run. */
    static List<OpCheck.Result> check(Op op, Op.Sample s, OpTolerance.MatrixProduct t, Op.RefArgs ref, Object[] got) {
        int[] n = s.n();
        Gemm g = t.shape().apply(n);
        int z = slot(op, "z");
        int y = slot(op, "y");
        boolean hasBias = n[op.intSlot("hasBias")] != 0;
        boolean hasY = n[op.intSlot("hasY")] != 0;
        Activation act = Activation.values()[n[op.intSlot("act")]];
        double[] z0 = rounded(s.data()[z]);
        float[] gz = (float[]) got[z];
        Tolerance.Worst wz = Tolerance.gemm(g, rounded(s.data()[slot(op, "a")]), rounded(s.data()[slot(op, "b")]),
                hasBias ? rounded(s.data()[slot(op, "bias")]) : null, g.accumulates() ? z0 : null, ref.f[z], gz, t.operandError());
        boolean[] in = entries(g);
        for (int i = 0; i < in.length; i++) {
            if (!in[i]) {
                wz = wz.worse(untouched(i, gz[i], z0[i]));
            }
        }
        Tolerance.Worst wy = Tolerance.Worst.NONE;
        if (hasY) {
            double[] y0 = rounded(s.data()[y]);
            float[] gy = (float[]) got[y];
            for (int i = 0; i < in.length; i++) {
                if (!in[i]) {
                    wy = wy.worse(untouched(i, gy[i], y0[i]));
                    continue;
                }
                double r = act.apply(gz[i]);
                if (!Double.isFinite(r)) {
                    boolean same = Double.isNaN(r) ? Float.isNaN(gy[i]) : gy[i] == r;
                    wy = wy.worse(new Tolerance.Worst(i, gy[i], r, same ? 0 : Double.NaN, 0));
                } else {
                    double err = Float.isFinite(gy[i]) ? Math.abs(gy[i] - r) : Double.NaN;
                    wy = wy.worse(new Tolerance.Worst(i, gy[i], r, err, Tolerance.ATOL + Tolerance.RTOL * Math.abs(r)));
                }
            }
        }
        return List.of(new OpCheck.Result(op, s.label(), "z", wz), new OpCheck.Result(op, s.label(), "y", wy));
    }

    /** An element between entries: the same bits as before the call (NaN as NaN). */
    private static Tolerance.Worst untouched(int i, float got, double before) {
        float b = (float) before;
        boolean same = Float.isNaN(b) ? Float.isNaN(got) : Float.floatToRawIntBits(got) == Float.floatToRawIntBits(b);
        return new Tolerance.Worst(i, got, b, same ? 0 : Double.NaN, 0);
    }

    /** True for the elements of C's span inside one of the entries. */
    private static boolean[] entries(Gemm g) {
        boolean[] in = new boolean[(int) g.cLength()];
        for (int e = 0; e < g.batch(); e++) {
            int from = (int) (e * g.strideC());
            java.util.Arrays.fill(in, from, from + (int) g.cMatrixLength(), true);
        }
        return in;
    }

    private static int slot(Op op, String name) {
        for (Op.Param p : op.params()) {
            if (p.kind().isBuffer() && p.name().equals(name)) {
                return p.slot();
            }
        }
        throw new IllegalArgumentException(op + " has no buffer " + name + " (a matrix-product tolerance needs a, b, bias, z and y)");
    }

    /** The sample's input as a float32 device holds it. */
    private static double[] rounded(Object data) {
        double[] x = (double[]) data;
        double[] c = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            c[i] = (float) x[i];
        }
        return c;
    }
}
