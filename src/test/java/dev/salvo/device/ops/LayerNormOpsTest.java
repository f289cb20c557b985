package dev.salvo.device.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.DeviceException;
import dev.salvo.device.Devices;
import dev.salvo.device.Op;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Layer normalization's semantics: the gradients of the float64 reference by central differences,
 * every provider against a direct float64 computation (a row far from 0 included), NaN as PyTorch
 * propagates it, and bitwise reproducible results (repeated runs, any CPU thread count).
 */
class LayerNormOpsTest {

    private static final double EPS = 1e-5;

    /** The devices to run on: cpu always, opencl where a platform is installed (or SALVO_REQUIRE lists it). */
    private static List<Device> devices() {
        List<Device> ds = new ArrayList<>();
        ds.add(Devices.open("cpu").device());
        try {
            ds.add(Devices.open("opencl").device());
        } catch (DeviceException.Unavailable e) {
            String req = System.getenv().getOrDefault("SALVO_REQUIRE", "");
            assertFalse(req.contains("opencl"), "SALVO_REQUIRE lists opencl: " + e.getMessage());
        }
        return ds;
    }

    /** Outputs of forward (y, mean, rstd), backward (dx) and param grads (dgamma, dbeta) on {@code dev}. */
    private static float[][] run(Device dev, int rows, int dim, double[] x, double[] gamma, double[] beta, double[] dy) {
        int len = rows * dim;
        try (DeviceBuffer bx = dev.allocFloat(len); DeviceBuffer bg = dev.allocFloat(dim); DeviceBuffer bb = dev.allocFloat(dim);
             DeviceBuffer by = dev.allocFloat(len); DeviceBuffer bm = dev.allocFloat(rows); DeviceBuffer br = dev.allocFloat(rows);
             DeviceBuffer bdy = dev.allocFloat(len); DeviceBuffer bdx = dev.allocFloat(len);
             DeviceBuffer bdg = dev.allocFloat(dim); DeviceBuffer bdb = dev.allocFloat(dim)) {
            dev.upload(x, bx);
            dev.upload(gamma, bg);
            dev.upload(beta, bb);
            dev.upload(dy, bdy);
            int[] n = {rows, dim};
            dev.run(LayerNormOps.LAYERNORM_FORWARD.call(new DeviceBuffer[] {bx, bg, bb, by, bm, br}, n, EPS));
            dev.run(LayerNormOps.LAYERNORM_BACKWARD.call(new DeviceBuffer[] {bx, bdy, bm, br, bg, bdx}, n));
            dev.run(LayerNormOps.LAYERNORM_PARAM_GRADS.call(new DeviceBuffer[] {bx, bdy, bm, br, bdg, bdb}, n));
            float[][] out = {new float[len], new float[rows], new float[rows], new float[len], new float[dim], new float[dim]};
            DeviceBuffer[] from = {by, bm, br, bdx, bdg, bdb};
            for (int k = 0; k < out.length; k++) {
                dev.download(from[k], out[k]);
            }
            return out;
        }
    }

    private static double[] uniform(Random r, int n, double lo, double hi) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }

    /**
     * Direct float64 layer norm of PyTorch's definition (no op code): y, mean, rstd, and the
     * backward of {@code sum dy y}: dx, dgamma, dbeta.
     */
    private static double[][] direct(int rows, int dim, double[] x, double[] gamma, double[] beta, double[] dy) {
        double[] y = new double[rows * dim];
        double[] mean = new double[rows];
        double[] rstd = new double[rows];
        double[] dx = new double[rows * dim];
        double[] dg = new double[dim];
        double[] db = new double[dim];
        for (int r = 0; r < rows; r++) {
            double m = 0;
            for (int j = 0; j < dim; j++) {
                m += x[r * dim + j];
            }
            m /= dim;
            double v = 0;
            for (int j = 0; j < dim; j++) {
                v += (x[r * dim + j] - m) * (x[r * dim + j] - m);
            }
            v /= dim;
            double s = 1 / Math.sqrt(v + EPS);
            mean[r] = m;
            rstd[r] = s;
            double a = 0;
            double b = 0;
            for (int j = 0; j < dim; j++) {
                double xh = (x[r * dim + j] - m) * s;
                y[r * dim + j] = xh * gamma[j] + beta[j];
                double g = dy[r * dim + j] * gamma[j];
                a += g;
                b += g * xh;
                dg[j] += dy[r * dim + j] * xh;
                db[j] += dy[r * dim + j];
            }
            for (int j = 0; j < dim; j++) {
                double xh = (x[r * dim + j] - m) * s;
                dx[r * dim + j] = s * (dy[r * dim + j] * gamma[j] - a / dim - xh * b / dim);
            }
        }
        return new double[][] {y, mean, rstd, dx, dg, db};
    }

    /** The reference's backward is the gradient of {@code sum dy * y} of its forward, by central differences in float64. */
    @Test
    void referenceBackwardIsTheGradientOfTheForward() {
        int rows = 3;
        int dim = 5;
        Random r = new Random(5);
        double[] x = uniform(r, rows * dim, -1, 1);
        double[] gamma = uniform(r, dim, 0.5, 1.5);
        double[] beta = uniform(r, dim, -0.5, 0.5);
        double[] dy = uniform(r, rows * dim, -1, 1);
        double[][] f = forward(rows, dim, x, gamma, beta);
        Op.RefArgs b = new Op.RefArgs(6);
        b.n = new int[] {rows, dim};
        b.f[0] = x;
        b.f[1] = dy;
        b.f[2] = f[1];
        b.f[3] = f[2];
        b.f[4] = gamma;
        b.f[5] = new double[rows * dim];
        LayerNormOps.LAYERNORM_BACKWARD.reference(b);
        Op.RefArgs p = new Op.RefArgs(6);
        p.n = b.n;
        p.f[0] = x;
        p.f[1] = dy;
        p.f[2] = f[1];
        p.f[3] = f[2];
        p.f[4] = new double[dim];
        p.f[5] = new double[dim];
        LayerNormOps.LAYERNORM_PARAM_GRADS.reference(p);
        double h = 1e-6;
        for (int i = 0; i < x.length; i++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            double num = (dot(dy, forward(rows, dim, xp, gamma, beta)[0]) - dot(dy, forward(rows, dim, xm, gamma, beta)[0])) / (2 * h);
            assertEquals(num, b.f[5][i], 1e-7, "dx[" + i + "]");
        }
        for (int j = 0; j < dim; j++) {
            double[] gp = gamma.clone();
            double[] gm = gamma.clone();
            gp[j] += h;
            gm[j] -= h;
            assertEquals((dot(dy, forward(rows, dim, x, gp, beta)[0]) - dot(dy, forward(rows, dim, x, gm, beta)[0])) / (2 * h),
                    p.f[4][j], 1e-7, "dgamma[" + j + "]");
            double[] bp = beta.clone();
            double[] bm = beta.clone();
            bp[j] += h;
            bm[j] -= h;
            assertEquals((dot(dy, forward(rows, dim, x, gamma, bp)[0]) - dot(dy, forward(rows, dim, x, gamma, bm)[0])) / (2 * h),
                    p.f[5][j], 1e-7, "dbeta[" + j + "]");
        }
    }

    private static double[][] forward(int rows, int dim, double[] x, double[] gamma, double[] beta) {
        Op.RefArgs a = new Op.RefArgs(6);
        a.n = new int[] {rows, dim};
        a.r = new double[] {EPS};
        a.f[0] = x;
        a.f[1] = gamma;
        a.f[2] = beta;
        a.f[3] = new double[rows * dim];
        a.f[4] = new double[rows];
        a.f[5] = new double[rows];
        LayerNormOps.LAYERNORM_FORWARD.reference(a);
        return new double[][] {a.f[3], a.f[4], a.f[5]};
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /**
     * Every provider against the direct float64 computation, GPT-2's width 768 with rows far from 0
     * (an offset of 64: a one-pass variance E[x^2] - E[x]^2 is off by ~1e-3 there) and an odd width.
     * Bounds: the ops' own tolerances (their javadoc derives them).
     */
    @Test
    void everyProviderMatchesADirectFloat64Computation() {
        for (Device dev : devices()) {
            try (dev) {
                for (int[] shape : new int[][] {{8, 768}, {5, 200}, {3, 1}}) {
                    int rows = shape[0];
                    int dim = shape[1];
                    Random r = new Random(rows * 1000 + dim);
                    double[] x = uniform(r, rows * dim, 63, 65);
                    for (int i = 0; i < dim; i++) {
                        x[i] -= 128; // one row near -64
                    }
                    double[] gamma = uniform(r, dim, 0.5, 1.5);
                    double[] beta = uniform(r, dim, -0.5, 0.5);
                    double[] dy = uniform(r, rows * dim, -1, 1);
                    double[][] want = direct(rows, dim, x, gamma, beta, dy);
                    float[][] got = run(dev, rows, dim, x, gamma, beta, dy);
                    String[] names = {"y", "mean", "rstd", "dx", "dgamma", "dbeta"};
                    double[] atol = {3e-5, 1e-5, 1e-5, 2e-5, 5e-4, 5e-4};
                    for (int k = 0; k < names.length; k++) {
                        for (int i = 0; i < want[k].length; i++) {
                            double bound = atol[k] + 1.3e-6 * Math.abs(want[k][i]);
                            assertTrue(Math.abs(got[k][i] - want[k][i]) <= bound, dev.info().id() + " " + rows + "x" + dim
                                    + " " + names[k] + "[" + i + "] = " + got[k][i] + ", float64 " + want[k][i]);
                        }
                    }
                }
            }
        }
    }

    /**
     * NaN as PyTorch propagates it: a NaN in x row r makes that row's y, mean, rstd and dx NaN and,
     * through every xhat of the row, every dgamma (dbeta, the sum of dy, stays finite); a NaN in
     * dy (r, j) makes dx row r, dgamma j and dbeta j NaN, nothing else.
     */
    @Test
    void nanPropagatesAsInPyTorch() {
        int rows = 4;
        int dim = 300;
        for (Device dev : devices()) {
            try (dev) {
                Random r = new Random(9);
                double[] x = uniform(r, rows * dim, -1, 1);
                double[] gamma = uniform(r, dim, 0.5, 1.5);
                double[] beta = uniform(r, dim, -0.5, 0.5);
                double[] dy = uniform(r, rows * dim, -1, 1);
                double[] xn = x.clone();
                xn[2 * dim + 17] = Double.NaN;
                float[][] a = run(dev, rows, dim, xn, gamma, beta, dy);
                for (int i = 0; i < rows * dim; i++) {
                    boolean bad = i / dim == 2;
                    assertEquals(bad, Float.isNaN(a[0][i]), dev.info().id() + " y[" + i + "]");
                    assertEquals(bad, Float.isNaN(a[3][i]), dev.info().id() + " dx[" + i + "]");
                }
                for (int k = 0; k < rows; k++) {
                    assertEquals(k == 2, Float.isNaN(a[1][k]), "mean");
                    assertEquals(k == 2, Float.isNaN(a[2][k]), "rstd");
                }
                for (int j = 0; j < dim; j++) {
                    assertTrue(Float.isNaN(a[4][j]), "dgamma[" + j + "]");
                    assertTrue(Float.isFinite(a[5][j]), "dbeta[" + j + "]");
                }
                double[] dyn = dy.clone();
                dyn[dim + 40] = Double.NaN;
                float[][] b = run(dev, rows, dim, x, gamma, beta, dyn);
                for (int i = 0; i < rows * dim; i++) {
                    assertTrue(Float.isFinite(b[0][i]), "y");
                    assertEquals(i / dim == 1, Float.isNaN(b[3][i]), dev.info().id() + " dx[" + i + "]");
                }
                for (int j = 0; j < dim; j++) {
                    assertEquals(j == 40, Float.isNaN(b[4][j]), dev.info().id() + " dgamma[" + j + "]");
                    assertEquals(j == 40, Float.isNaN(b[5][j]), dev.info().id() + " dbeta[" + j + "]");
                }
            }
        }
    }

    /** The same inputs give bitwise the same outputs: twice on each provider, and on CPU pools of 1, 2 and 3 threads. */
    @Test
    void resultsAreBitwiseReproducible() {
        int rows = 37;
        int dim = 768;
        Random r = new Random(11);
        double[] x = uniform(r, rows * dim, -3, 3);
        double[] gamma = uniform(r, dim, 0.5, 1.5);
        double[] beta = uniform(r, dim, -0.5, 0.5);
        double[] dy = uniform(r, rows * dim, -1, 1);
        for (Device dev : devices()) {
            try (dev) {
                float[][] a = run(dev, rows, dim, x, gamma, beta, dy);
                float[][] b = run(dev, rows, dim, x, gamma, beta, dy);
                for (int k = 0; k < a.length; k++) {
                    assertArrayEquals(a[k], b[k], dev.info().id() + " output " + k);
                }
            }
        }
        float[][] one;
        try (Device d = CpuProvider.open(CpuSettings.load().withThreads(1))) {
            one = run(d, rows, dim, x, gamma, beta, dy);
        }
        for (int threads : new int[] {2, 3}) {
            try (Device d = CpuProvider.open(CpuSettings.load().withThreads(threads))) {
                float[][] t = run(d, rows, dim, x, gamma, beta, dy);
                for (int k = 0; k < t.length; k++) {
                    assertArrayEquals(one[k], t[k], threads + " threads, output " + k);
                }
            }
        }
    }

    @Test
    void badShapesAreRefusedInOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LayerNormOps.LAYERNORM_FORWARD.validate(new int[] {4, 0}, new double[] {1e-5}));
        assertTrue(e.getMessage().contains("dim must be at least 1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> LayerNormOps.LAYERNORM_FORWARD.validate(new int[] {4, 8}, new double[] {-1}));
        assertTrue(e.getMessage().contains("eps"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> LayerNormOps.LAYERNORM_BACKWARD.validate(new int[] {-1, 8}, new double[0]));
        LayerNormOps.LAYERNORM_PARAM_GRADS.validate(new int[] {0, 8}, new double[0]);
    }
}
