package dev.salvo;

import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.data.Dataset;
import dev.salvo.device.Gemm;
import dev.salvo.util.Rng;

/** DESIGN.md's tolerances and fresh random test data. */
public final class Check {

    /** float32 unit roundoff. */
    public static final double U = 0x1p-24;
    public static final double RTOL = 1.3e-6;
    public static final double ATOL = 1e-5;

    private Check() {
    }

    public static double gamma(int k) {
        return k * U / (1 - k * U);
    }

    /** Elementwise bound {@code |x - ref| <= atol + rtol |ref|}. */
    public static void elementwise(String what, double[] ref, float[] got, int n) {
        elementwise(what, ref, got, n, ATOL, RTOL);
    }

    public static void elementwise(String what, double[] ref, float[] got, int n, double atol, double rtol) {
        for (int i = 0; i < n; i++) {
            double err = Math.abs(got[i] - ref[i]);
            if (!(err <= atol + rtol * Math.abs(ref[i]))) {
                fail(what + ": element " + i + " is " + got[i] + ", reference " + ref[i] + " (error " + err + ", bound "
                        + (atol + rtol * Math.abs(ref[i])) + ")");
            }
        }
    }

    /**
     * Sum-over-K bound: per element {@code |c - ref| <= 2 gamma(K) (|A||B|)_ij} (a bias counts as
     * one more term) and normwise
     * {@code ||C - Cref||_F / (sqrt(K+2) ||A||_F ||B||_F) < u}.
     */
    public static void gemm(String what, Gemm g, double[] a, double[] b, double[] bias, double[] ref, float[] got) {
        int m = g.m();
        int n = g.n();
        int k = g.k();
        double diff2 = 0;
        double a2 = 0;
        double b2 = 0;
        for (double v : a) {
            a2 += v * v;
        }
        for (double v : b) {
            b2 += v * v;
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double abs = 0;
                for (int p = 0; p < k; p++) {
                    double av = g.transA() ? a[p * m + i] : a[i * k + p];
                    double bv = g.transB() ? b[j * k + p] : b[p * n + j];
                    abs += Math.abs(av * bv);
                }
                double r = ref[i * n + j];
                // DESIGN.md: 2 gamma(K) (|A||B|)_ij; a bias is one more term of the sum (K + 1 terms)
                double bound = bias == null ? 2 * gamma(k) * abs : 2 * gamma(k + 1) * (abs + Math.abs(bias[j]));
                double err = Math.abs(got[i * n + j] - r);
                if (!(err <= bound)) {
                    fail(what + " " + g + ": C[" + i + "," + j + "] = " + got[i * n + j] + ", reference " + r
                            + " (error " + err + ", bound " + bound + ")");
                }
                diff2 += err * err;
            }
        }
        if (k > 0 && a2 > 0 && b2 > 0) {
            double rel = Math.sqrt(diff2) / (Math.sqrt(k + 2.0) * Math.sqrt(a2) * Math.sqrt(b2));
            if (!(rel < U)) {
                fail(what + " " + g + ": normwise error " + rel + " >= u");
            }
        }
    }

    /** Uniform values in [-scale, scale], already rounded to float32 so devices and reference see the same inputs. */
    public static double[] random(Rng rng, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (scale * (2 * rng.nextDouble() - 1));
        }
        return x;
    }

    public static float[] toFloat(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    public static float[] nans(int n) {
        float[] f = new float[n];
        java.util.Arrays.fill(f, Float.NaN);
        return f;
    }

    /**
     * A learnable synthetic classification set: {@code classes} Gaussian clusters in
     * {@code width} dimensions with random centres.
     */
    public static Dataset clusters(String name, int rows, int width, int classes, long seed) {
        Rng rng = new Rng(seed);
        double[][] centres = new double[classes][width];
        for (double[] c : centres) {
            for (int j = 0; j < width; j++) {
                c[j] = 2 * rng.nextGaussian();
            }
        }
        Rng draw = new Rng(seed + 7);
        float[] x = new float[rows * width];
        int[] y = new int[rows];
        for (int i = 0; i < rows; i++) {
            y[i] = i % classes;
            for (int j = 0; j < width; j++) {
                x[i * width + j] = (float) (centres[y[i]][j] + 1.5 * draw.nextGaussian());
            }
        }
        return new Dataset(name, x, y, rows, width, classes);
    }
}
