package dev.salvo;

import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.data.Dataset;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Gemm;
import dev.salvo.device.Tolerance;
import dev.salvo.util.Rng;

/** The design document's tolerances ({@code src/site/markdown/design.md}) and fresh random test data. */
public final class Check {

    public static final double U = Tolerance.U;

    private Check() {
    }

    public static double gamma(int k) {
        return Tolerance.gamma(k);
    }

    /** Elementwise bound {@code |x - ref| <= atol + rtol |ref|} with the design document's float32 atol and rtol. */
    public static void elementwise(String what, double[] ref, float[] got, int n) {
        elementwise(what, ref, got, n, Tolerance.ATOL, Tolerance.RTOL);
    }

    public static void elementwise(String what, double[] ref, float[] got, int n, double atol, double rtol) {
        Tolerance.Worst w = Tolerance.elementwise(ref, got, n, atol, rtol);
        if (!w.pass()) {
            fail(what + ": " + w.describe());
        }
    }

    /**
     * Like {@link #elementwise(String, double[], float[], int)}, for outputs that may be non-finite:
     * where the reference is NaN the device must give NaN, where it is infinite the same infinity,
     * elsewhere a finite value within the elementwise bound.
     */
    public static void sameNonFinite(String what, double[] ref, float[] got, int n) {
        Tolerance.Worst w = Tolerance.elementwiseNonFinite(ref, got, n);
        if (!w.pass()) {
            fail(what + ": " + w.describe());
        }
    }

    /** The design document's sum-over-K bound, per element and normwise (see {@link Tolerance#gemm}). */
    public static void gemm(String what, Gemm g, double[] a, double[] b, double[] bias, double[] ref, float[] got) {
        Tolerance.Worst w = Tolerance.gemm(g, a, b, bias, ref, got);
        if (!w.pass()) {
            fail(what + " " + g + ": " + w.describe());
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
     * Skips the calling test, with the reason, unless the working directory is the source checkout
     * holding {@code files} (README.md, the launcher...): the GPU bundle runs the tests from a
     * scratch folder without them, and {@code mvn verify} runs them at the checkout's root.
     */
    public static void inCheckout(String... files) {
        for (String f : files) {
            java.nio.file.Path p = java.nio.file.Path.of(f);
            org.junit.jupiter.api.Assumptions.assumeTrue(java.nio.file.Files.exists(p),
                    () -> "needs the source checkout (mvn verify runs it there): no " + p.toAbsolutePath());
        }
    }

    /** See {@link Synthetic#clusters}. */
    public static Dataset clusters(String name, int rows, int width, int classes, long seed) {
        return Synthetic.clusters(name, rows, width, classes, seed);
    }

    /**
     * A class path for a child JVM: this JVM's (surefire's may be a manifest-only jar, the JUnit
     * console's only its launcher) plus wherever the given classes were loaded from.
     */
    public static String childClassPath(Class<?>... classes) {
        java.util.Set<String> cp = new java.util.LinkedHashSet<>(
                java.util.List.of(System.getProperty("java.class.path").split(java.io.File.pathSeparator)));
        try {
            for (Class<?> c : classes) {
                cp.add(java.nio.file.Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
            }
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
        return String.join(java.io.File.pathSeparator, cp);
    }
}
