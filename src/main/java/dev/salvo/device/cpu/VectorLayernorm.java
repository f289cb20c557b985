package dev.salvo.device.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The layernorm rows of {@link LayernormCpu} with the Vector API (loaded only when
 * {@code jdk.incubator.vector} is present), in float64 as the scalar rows: float32 lanes widened to
 * float64 lanes, sums kept in one float64 accumulator per lane and the lanes then added in lane
 * order, the row's tail after them. The order depends on the row length only, never on the split or
 * the thread count; it differs from the scalar path's, which stays as it was.
 */
final class VectorLayernorm {

    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));
    private static final int L = D.length();

    private VectorLayernorm() {
    }

    /** Whether the widening pair of species is usable (at least 4 float64 lanes). */
    static boolean usable() {
        return L >= 4 && F.length() == L;
    }

    private static DoubleVector wide(float[] x, int o) {
        return (DoubleVector) FloatVector.fromArray(F, x, o).convertShape(VectorOperators.F2D, D, 0);
    }

    private static double lanes(DoubleVector v) {
        double s = 0;
        for (int i = 0; i < L; i++) {
            s += v.lane(i);
        }
        return s;
    }

    /** One row: y = (x - mean) rstd gamma + beta; mean and rstd stored (float32) at {@code stats[mo]}, {@code stats[ro]}. */
    static void forward(float[] x, int xo, float[] gamma, int go, float[] beta, int bo, float[] y, int yo, int dim, double eps,
                        float[] means, int mo, float[] rstds, int ro) {
        int upper = dim - dim % L;
        DoubleVector acc = DoubleVector.zero(D);
        int j = 0;
        for (; j < upper; j += L) {
            acc = acc.add(wide(x, xo + j));
        }
        double sum = lanes(acc);
        for (; j < dim; j++) {
            sum += x[xo + j];
        }
        double mean = sum / dim;
        DoubleVector mv = DoubleVector.broadcast(D, mean);
        acc = DoubleVector.zero(D);
        for (j = 0; j < upper; j += L) {
            DoubleVector d = wide(x, xo + j).sub(mv);
            acc = d.fma(d, acc);
        }
        double sq = lanes(acc);
        for (; j < dim; j++) {
            double d = x[xo + j] - mean;
            sq = Math.fma(d, d, sq);
        }
        double rstd = 1 / Math.sqrt(sq / dim + eps);
        DoubleVector rv = DoubleVector.broadcast(D, rstd);
        for (j = 0; j < upper; j += L) {
            DoubleVector v = wide(x, xo + j).sub(mv).mul(rv).mul(wide(gamma, go + j)).add(wide(beta, bo + j));
            ((FloatVector) v.convertShape(VectorOperators.D2F, F, 0)).intoArray(y, yo + j);
        }
        for (; j < dim; j++) {
            y[yo + j] = (float) ((x[xo + j] - mean) * rstd * gamma[go + j] + beta[bo + j]);
        }
        means[mo] = (float) mean;
        rstds[ro] = (float) rstd;
    }

    /** One row of dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy gamma, xhat = (x - mean) rstd. */
    static void backward(float[] x, int xo, float[] dy, int yo, float[] gamma, int go, float[] dx, int dxo, int dim,
                         double mean, double rstd) {
        int upper = dim - dim % L;
        DoubleVector mv = DoubleVector.broadcast(D, mean);
        DoubleVector rv = DoubleVector.broadcast(D, rstd);
        DoubleVector sg = DoubleVector.zero(D);
        DoubleVector sx = DoubleVector.zero(D);
        int j = 0;
        for (; j < upper; j += L) {
            DoubleVector g = wide(dy, yo + j).mul(wide(gamma, go + j));
            sg = sg.add(g);
            sx = g.fma(wide(x, xo + j).sub(mv).mul(rv), sx);
        }
        double sgs = lanes(sg);
        double sxs = lanes(sx);
        for (; j < dim; j++) {
            double g = (double) dy[yo + j] * gamma[go + j];
            sgs += g;
            sxs = Math.fma(g, (x[xo + j] - mean) * rstd, sxs);
        }
        double mg = sgs / dim;
        double mgx = sxs / dim;
        DoubleVector mgv = DoubleVector.broadcast(D, mg);
        DoubleVector mgxv = DoubleVector.broadcast(D, mgx);
        for (j = 0; j < upper; j += L) {
            DoubleVector xhat = wide(x, xo + j).sub(mv).mul(rv);
            DoubleVector g = wide(dy, yo + j).mul(wide(gamma, go + j));
            DoubleVector v = rv.mul(g.sub(mgv).sub(xhat.mul(mgxv)));
            ((FloatVector) v.convertShape(VectorOperators.D2F, F, 0)).intoArray(dx, dxo + j);
        }
        for (; j < dim; j++) {
            double xhat = (x[xo + j] - mean) * rstd;
            dx[dxo + j] = (float) (rstd * ((double) dy[yo + j] * gamma[go + j] - mg - xhat * mgx));
        }
    }
}
