package dev.salvo.device;

import java.util.Arrays;

/**
 * The specification of the op set: naive loops in float64, written for clarity, never for speed.
 * Every provider is tested against these functions (see the design document, src/site/markdown/design.md, "Tolerances"), and
 * the reference device ({@code device.cpu.ReferenceDevice}) runs whole training steps with them. Arrays hold exactly the elements
 * of the shapes named in each javadoc.
 */
public final class ReferenceOps {

    private ReferenceOps() {
    }

    /** Loss per row and the gradient with respect to the input of a loss. */
    public record LossResult(double[] rowLoss, double[] grad) {
    }

    /** {@code z (M,N) = op(a) op(b) + bias}; {@code bias (N)} may be null. Batched: see {@link #matmul(Gemm, double[], double[], double[], double[])}. */
    public static double[] matmul(Gemm g, double[] a, double[] b, double[] bias) {
        return matmul(g, a, b, bias, null);
    }

    /**
     * Every entry {@code e} of a batched {@link Gemm}: {@code z_e (M,N) = op(a_e) op(b_e) + bias
     * (+ z0_e when beta = 1)}, {@code a_e} from {@code e * strideA} and so on. Returns
     * {@link Gemm#cLength()} elements: the entries, and between them what {@code z0} held (zeros
     * when {@code z0} is null). {@code z0} is the z the call starts from; its entries are read only
     * when beta = 1 (then it is required).
     */
    public static double[] matmul(Gemm g, double[] a, double[] b, double[] bias, double[] z0) {
        if (g.accumulates() && z0 == null) {
            throw new IllegalArgumentException("matmul with beta = 1 needs the z it starts from");
        }
        double[] z = z0 == null ? new double[(int) g.cLength()] : Arrays.copyOf(z0, (int) g.cLength());
        matmul(g, a, 0, b, 0, bias, 0, z, 0);
        return z;
    }

    /**
     * {@link #matmul(Gemm, double[], double[], double[], double[])} in place on arrays that hold
     * the operands from the given offsets: every entry of {@code z} from {@code zo} is written (read
     * first when beta = 1); the elements between entries are not touched.
     */
    public static void matmul(Gemm g, double[] a, int aOff, double[] b, int bOff, double[] bias, int biasOff, double[] z, int zo) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        for (int e = 0; e < g.batch(); e++) {
            int ao = aOff + (int) (e * g.strideA());
            int bo = bOff + (int) (e * g.strideB());
            int co = zo + (int) (e * g.strideC());
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        double av = g.transA() ? a[ao + p * m + i] : a[ao + i * k + p];
                        double bv = g.transB() ? b[bo + j * k + p] : b[bo + p * n + j];
                        s += av * bv;
                    }
                    int idx = co + i * n + j;
                    double v = s + (bias == null ? 0.0 : bias[biasOff + j]);
                    z[idx] = g.accumulates() ? v + z[idx] : v;
                }
            }
        }
    }

    /** {@code y (N) = act(x)}. */
    public static double[] activation(Activation act, double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = act.apply(x[i]);
        }
        return y;
    }

    /** {@code dz (N) = dy * act'(z)} ({@link Activation#backward}: a select for ReLU). */
    public static double[] activationBackward(Activation act, double[] z, double[] dy) {
        double[] dz = new double[z.length];
        for (int i = 0; i < z.length; i++) {
            dz[i] = act.backward(z[i], dy[i]);
        }
        return dz;
    }

    /** Row-wise softmax of {@code x (R,C)}, max-subtracted. */
    public static double[] softmax(int rows, int cols, double[] x) {
        double[] y = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[o + c]);
            }
            double s = 0;
            for (int c = 0; c < cols; c++) {
                y[o + c] = Math.exp(x[o + c] - max);
                s += y[o + c];
            }
            for (int c = 0; c < cols; c++) {
                y[o + c] /= s;
            }
        }
        return y;
    }

    /** {@code dx (R,C) = y * (dy - sum_j dy_j y_j)} per row. */
    public static double[] softmaxBackward(int rows, int cols, double[] y, double[] dy) {
        double[] dx = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double dot = 0;
            for (int c = 0; c < cols; c++) {
                dot += dy[o + c] * y[o + c];
            }
            for (int c = 0; c < cols; c++) {
                dx[o + c] = y[o + c] * (dy[o + c] - dot);
            }
        }
        return dx;
    }

    /** Softmax cross-entropy of logits {@code x (R,C)} against {@code labels (R)}; gradient scaled by {@code gradScale}. */
    public static LossResult softmaxCrossEntropy(int rows, int cols, double[] x, int[] labels, double gradScale) {
        double[] p = softmax(rows, cols, x);
        double[] loss = new double[rows];
        double[] grad = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            int label = labels[r];
            if (label < 0 || label >= cols) {
                throw new IllegalArgumentException("label " + label + " of row " + r + " outside [0," + cols + ")");
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < cols; c++) {
                max = Math.max(max, x[o + c]);
            }
            double s = 0;
            for (int c = 0; c < cols; c++) {
                s += Math.exp(x[o + c] - max);
            }
            loss[r] = max + Math.log(s) - x[o + label];
            for (int c = 0; c < cols; c++) {
                grad[o + c] = gradScale * (p[o + c] - (c == label ? 1.0 : 0.0));
            }
        }
        return new LossResult(loss, grad);
    }

    /** Mean squared error per row of {@code p (R,C)} against {@code t (R,C)}. */
    public static LossResult meanSquaredError(int rows, int cols, double[] p, double[] t, double gradScale) {
        double[] loss = new double[rows];
        double[] grad = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int c = 0; c < cols; c++) {
                int i = r * cols + c;
                double d = p[i] - t[i];
                s += d * d;
                grad[i] = gradScale * 2.0 * d / cols;
            }
            loss[r] = cols == 0 ? 0.0 : s / cols;
        }
        return new LossResult(loss, grad);
    }

    /**
     * Index of the first maximum of each row of {@code x (R,C)}; NaN counts as larger than
     * everything, so a row holding NaN gives its first NaN (as {@code torch.argmax}).
     */
    public static int[] argmax(int rows, int cols, double[] x) {
        int[] out = new int[rows];
        for (int r = 0; r < rows; r++) {
            int best = 0;
            for (int c = 1; c < cols && !Double.isNaN(x[r * cols + best]); c++) {
                if (!(x[r * cols + c] <= x[r * cols + best])) {
                    best = c;
                }
            }
            out[r] = best;
        }
        return out;
    }
}
