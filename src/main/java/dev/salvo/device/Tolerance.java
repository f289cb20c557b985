package dev.salvo.device;

/**
 * The definition of "the same result" against the float64 reference (the design document,
 * {@code src/site/markdown/design.md}, "Tolerances", gives the reasons), used by the tests
 * and by {@code salvo check}:
 * <ul>
 * <li>elementwise ops: {@code |x - ref| <= ATOL + RTOL |ref|};</li>
 * <li>sums over K terms: per element {@code |c - ref| <= 2 gamma(K) (|A||B|)_ij} with
 * {@code gamma(K) = K u / (1 - K u)}, {@code u = 2^-24}, and normwise
 * {@code ||C - Cref||_F / (sqrt(K+2) ||A||_F ||B||_F) < u}. A bias, and in an accumulating call
 * ({@code beta = 1}) the old z, are one more term each: per element K+1 (K+2) terms with their
 * magnitudes added, normwise their Frobenius norms (the bias over all M rows) added to the
 * denominator. A batched matmul is checked entry by entry.</li>
 * </ul>
 */
public final class Tolerance {

    /** float32 unit roundoff. */
    public static final double U = 0x1p-24;
    public static final double RTOL = 1.3e-6;
    public static final double ATOL = 1e-5;

    private Tolerance() {
    }

    public static double gamma(long k) {
        return k * U / (1 - k * U);
    }

    /**
     * The worst element of a comparison: the one with the largest error-to-bound ratio.
     * {@code index} is -1 for the normwise check of a matmul.
     */
    public record Worst(int index, double got, double ref, double error, double bound) {

        public static final Worst NONE = new Worst(-1, 0, 0, 0, 0);

        public boolean pass() {
            return error <= bound && !Double.isNaN(error);
        }

        public double ratio() {
            return error == 0 ? 0 : error / bound;
        }

        Worst worse(Worst o) {
            if (!o.pass() && pass()) {
                return o;
            }
            if (o.pass() == pass() && o.ratio() > ratio()) {
                return o;
            }
            return this;
        }

        public String describe() {
            return index < 0 ? "normwise error " + error + " (bound " + bound + ")"
                    : "element " + index + " is " + got + ", reference " + ref + " (error " + error + ", bound " + bound + ")";
        }
    }

    /** Elementwise comparison of the first {@code n} elements with bound {@code atol + rtol |ref|}. */
    public static Worst elementwise(double[] ref, float[] got, int n, double atol, double rtol) {
        Worst w = Worst.NONE;
        for (int i = 0; i < n; i++) {
            double err = Math.abs(got[i] - ref[i]);
            w = w.worse(new Worst(i, got[i], ref[i], Float.isNaN(got[i]) ? Double.NaN : err, atol + rtol * Math.abs(ref[i])));
        }
        return w;
    }

    public static Worst elementwise(double[] ref, float[] got, int n) {
        return elementwise(ref, got, n, ATOL, RTOL);
    }

    /**
     * For outputs that may be non-finite: where {@code ref} is NaN, {@code got} must be NaN; where
     * it is infinite, the same infinity; elsewhere finite and within {@code ATOL + RTOL |ref|}. A
     * mismatch in kind is reported with an error of NaN (never a pass).
     */
    public static Worst elementwiseNonFinite(double[] ref, float[] got, int n) {
        Worst w = Worst.NONE;
        for (int i = 0; i < n; i++) {
            double r = ref[i];
            float g = got[i];
            double bound = Double.isFinite(r) ? ATOL + RTOL * Math.abs(r) : 0;
            boolean sameKind = Double.isNaN(r) ? Float.isNaN(g) : Double.isInfinite(r) ? g == r : Float.isFinite(g);
            double err = !sameKind ? Double.NaN : Double.isFinite(r) ? Math.abs(g - r) : 0;
            w = w.worse(new Worst(i, g, r, err, bound));
        }
        return w;
    }

    /**
     * A matmul {@code got (M,N)} against {@code ref}, per element and normwise. A bias counts as
     * one more term of the sum (and its norm over the M rows joins the normwise denominator). A
     * batched {@link Gemm} is checked entry by entry (arrays span the whole call,
     * {@link Gemm#aLength()} ...; elements between entries are not looked at).
     */
    public static Worst gemm(Gemm g, double[] a, double[] b, double[] bias, double[] ref, float[] got) {
        return gemm(g, a, b, bias, null, ref, got, 0);
    }

    /**
     * As {@link #gemm(Gemm, double[], double[], double[], double[], float[])} for a call that may
     * accumulate: with {@code beta = 1}, {@code c0} (the z the call started from, {@link
     * Gemm#cLength()} elements) is one more term of the sum, like the bias, and its Frobenius norm
     * joins the normwise denominator. {@code c0} is ignored when {@code beta = 0}.
     */
    public static Worst gemm(Gemm g, double[] a, double[] b, double[] bias, double[] c0, double[] ref, float[] got) {
        return gemm(g, a, b, bias, c0, ref, got, 0);
    }

    /** Unit roundoff of TF32 operands (10 explicit mantissa bits, round to nearest): 2^-11. */
    public static final double U_TF32 = 0x1p-11;

    /**
     * A matmul computed on tensor cores with TF32 operands and FP32 accumulation: each product
     * carries the operands' rounding, {@code (1+d1)(1+d2)} with {@code |d| <= U_TF32}, on top of the
     * FP32 sum, so per element {@code |c - ref| <= (2 U_TF32 + U_TF32^2 + 2 gamma(K)) (|A||B|)_ij}
     * and normwise {@code ||C - Cref||_F / (sqrt(K+2) ||A||_F ||B||_F) < 2 U_TF32 + U_TF32^2 + u}.
     */
    public static Worst gemmTf32(Gemm g, double[] a, double[] b, double[] bias, double[] ref, float[] got) {
        return gemm(g, a, b, bias, null, ref, got, TF32_OPERANDS);
    }

    /** The relative error TF32 operands add to each product: {@code 2 U_TF32 + U_TF32^2}. */
    public static final double TF32_OPERANDS = 2 * U_TF32 + U_TF32 * U_TF32;

    /**
     * The matmul bound with {@code operandError} added to each product's relative error (0 for
     * float32 operands, {@link #TF32_OPERANDS} on tensor cores). Where the reference is NaN or
     * infinite (a NaN in an operand, the old z or the bias), {@code got} must be the same NaN or
     * infinity; those elements, and the non-finite inputs, stay out of the normwise check.
     */
    public static Worst gemm(Gemm g, double[] a, double[] b, double[] bias, double[] c0, double[] ref, float[] got,
                             double operandError) {
        boolean acc = g.accumulates();
        if (acc && c0 == null) {
            throw new IllegalArgumentException("gemm with beta = 1 needs the z it started from (c0)");
        }
        Worst w = Worst.NONE;
        for (int e = 0; e < g.batch(); e++) {
            Worst entry = gemmEntry(g, a, (int) (e * g.strideA()), b, (int) (e * g.strideB()), bias, acc ? c0 : null,
                    (int) (e * g.strideC()), ref, got, operandError);
            if (entry.index() < 0 && !entry.pass()) {
                return entry;
            }
            w = w.worse(entry);
        }
        return w;
    }

    /** One entry of a (batched) matmul; A, B and C from the given offsets; c0 null unless accumulating. */
    private static Worst gemmEntry(Gemm g, double[] a, int ao, double[] b, int bo, double[] bias, double[] c0, int co,
                                   double[] ref, float[] got, double operandError) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        double diff2 = 0;
        double a2 = 0;
        double b2 = 0;
        double bias2 = 0;
        double c2 = 0;
        for (int i = 0; i < m * k; i++) {
            a2 += square(a[ao + i]);
        }
        for (int i = 0; i < k * n; i++) {
            b2 += square(b[bo + i]);
        }
        long terms = k + (bias == null ? 0 : 1) + (c0 == null ? 0 : 1);
        Worst w = Worst.NONE;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    double av = g.transA() ? a[ao + p * m + i] : a[ao + i * k + p];
                    double bv = g.transB() ? b[bo + j * k + p] : b[bo + p * n + j];
                    abs += Math.abs(av * bv);
                }
                int idx = co + i * n + j;
                double extra = (bias == null ? 0 : Math.abs(bias[j])) + (c0 == null ? 0 : Math.abs(c0[idx]));
                double r = ref[idx];
                if (!Double.isFinite(r)) {
                    // a NaN or infinity reached this element: the device must give the same
                    boolean same = Double.isNaN(r) ? Float.isNaN(got[idx]) : got[idx] == r;
                    w = w.worse(new Worst(idx, got[idx], r, same ? 0 : Double.NaN, 0));
                    continue;
                }
                double bound = terms == k ? (2 * gamma(k) + operandError) * abs
                        : 2 * gamma(terms) * (abs + extra) + operandError * abs;
                double err = Math.abs(got[idx] - r);
                w = w.worse(new Worst(idx, got[idx], r, Float.isFinite(got[idx]) ? err : Double.NaN, bound));
                diff2 += err * err;
                if (bias != null) {
                    bias2 += square(bias[j]);
                }
                if (c0 != null) {
                    c2 += square(c0[idx]);
                }
            }
        }
        if (k > 0 && a2 > 0 && b2 > 0) {
            // the added terms (bias broadcast over the rows, old z) are each rounded into the sum once more
            double rel = Math.sqrt(diff2) / (Math.sqrt(k + 2.0) * Math.sqrt(a2) * Math.sqrt(b2) + Math.sqrt(bias2) + Math.sqrt(c2));
            Worst norm = new Worst(-1, 0, 0, rel, U + operandError);
            if (!norm.pass()) {
                return norm;
            }
        }
        return w;
    }

    /** {@code x^2}, 0 for a non-finite {@code x} (left out of the normwise check's norms). */
    private static double square(double x) {
        return Double.isFinite(x) ? x * x : 0;
    }
}
