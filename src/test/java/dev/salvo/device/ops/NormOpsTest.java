package dev.salvo.device.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Op;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Batch normalization's semantics: PyTorch's numbers, its refusal of one value per channel, and the backward's formula. */
class NormOpsTest {

    /** BatchNorm1d(1) in training on [[1], [2], [3], [4]], momentum 0.1: PyTorch's running_mean 0.25, running_var 1.0667. */
    @Test
    void statsMatchPyTorchOnATinyBatch() {
        try (Device dev = Devices.open("cpu").device();
             DeviceBuffer x = dev.allocFloat(4); DeviceBuffer mean = dev.allocFloat(1); DeviceBuffer invstd = dev.allocFloat(1);
             DeviceBuffer rm = dev.allocFloat(1); DeviceBuffer rv = dev.allocFloat(1)) {
            dev.upload(new double[] {1, 2, 3, 4}, x);
            dev.upload(new double[] {0}, rm);
            dev.upload(new double[] {1}, rv);
            dev.run(NormOps.BATCHNORM_STATS.call(new DeviceBuffer[] {x, mean, invstd, rm, rv}, new int[] {4, 1, 1}, 1e-5, 0.1));
            assertEquals(2.5f, read(dev, mean));
            assertEquals(1 / Math.sqrt(1.25 + 1e-5), read(dev, invstd), 1e-6);
            assertEquals(0.25f, read(dev, rm), 1e-7);
            assertEquals(0.9 + 0.1 * 5 / 3.0, read(dev, rv), 1e-6);
        }
    }

    private static float read(Device dev, DeviceBuffer b) {
        float[] h = new float[1];
        dev.download(b, h);
        return h[0];
    }

    @Test
    void oneValuePerChannelIsRefusedAsPyTorchDoes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NormOps.BATCHNORM_STATS.validate(new int[] {1, 8, 1}, new double[] {1e-5, 0.1}));
        assertTrue(e.getMessage().contains("expected more than 1 value per channel"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> NormOps.BATCHNORM_STATS.validate(new int[] {0, 8, 9}, new double[] {1e-5, 0.1}));
        assertThrows(IllegalArgumentException.class, () -> NormOps.BATCHNORM_STATS.validate(new int[] {2, 8, 1}, new double[] {-1, 0.1}));
        NormOps.BATCHNORM_STATS.validate(new int[] {2, 8, 1}, new double[] {1e-5, 0.1});
        NormOps.BATCHNORM_STATS.validate(new int[] {1, 8, 2}, new double[] {1e-5, 0.1});
    }

    /**
     * The backward's dx, dgamma and dbeta are the gradients of {@code sum dy * y} where y is the
     * training forward (statistics of x itself), by central differences in float64.
     */
    @Test
    void backwardIsTheGradientOfTheTrainingForward() {
        int batch = 3;
        int c = 2;
        int s = 5;
        int len = batch * c * s;
        Random r = new Random(3);
        double[] x = new double[len];
        double[] dy = new double[len];
        for (int i = 0; i < len; i++) {
            x[i] = 2 * r.nextDouble() - 1;
            dy[i] = 2 * r.nextDouble() - 1;
        }
        double[] gamma = {0.7, -1.3};
        double[] beta = {0.2, 0.5};
        double eps = 1e-5;
        double[][] st = stats(x, batch, c, s, eps);
        Op.RefArgs a = args(8, batch, c, s);
        a.f[0] = x;
        a.f[1] = dy;
        a.f[2] = st[0];
        a.f[3] = st[1];
        a.f[4] = gamma;
        a.f[5] = new double[len];
        a.f[6] = new double[c];
        a.f[7] = new double[c];
        NormOps.BATCHNORM_BACKWARD.reference(a);
        double h = 1e-6;
        for (int i = 0; i < len; i++) {
            double[] xp = x.clone();
            double[] xm = x.clone();
            xp[i] += h;
            xm[i] -= h;
            double num = (loss(xp, dy, gamma, beta, batch, c, s, eps) - loss(xm, dy, gamma, beta, batch, c, s, eps)) / (2 * h);
            assertEquals(num, a.f[5][i], 1e-7, "dx[" + i + "]");
        }
        for (int ch = 0; ch < c; ch++) {
            double[] gp = gamma.clone();
            double[] gm = gamma.clone();
            gp[ch] += h;
            gm[ch] -= h;
            assertEquals((loss(x, dy, gp, beta, batch, c, s, eps) - loss(x, dy, gm, beta, batch, c, s, eps)) / (2 * h), a.f[6][ch], 1e-7);
            double[] bp = beta.clone();
            double[] bm = beta.clone();
            bp[ch] += h;
            bm[ch] -= h;
            assertEquals((loss(x, dy, gamma, bp, batch, c, s, eps) - loss(x, dy, gamma, bm, batch, c, s, eps)) / (2 * h), a.f[7][ch], 1e-7);
        }
    }

    private static Op.RefArgs args(int buffers, int batch, int c, int s) {
        Op.RefArgs a = new Op.RefArgs(buffers);
        a.n = new int[] {batch, c, s};
        return a;
    }

    /** mean and invstd of the reference's batchnorm_stats. */
    private static double[][] stats(double[] x, int batch, int c, int s, double eps) {
        Op.RefArgs a = args(5, batch, c, s);
        a.r = new double[] {eps, 0.1};
        a.f[0] = x;
        for (int b = 1; b < 5; b++) {
            a.f[b] = new double[c];
        }
        NormOps.BATCHNORM_STATS.reference(a);
        return new double[][] {a.f[1], a.f[2]};
    }

    private static double loss(double[] x, double[] dy, double[] gamma, double[] beta, int batch, int c, int s, double eps) {
        double[][] st = stats(x, batch, c, s, eps);
        Op.RefArgs a = args(6, batch, c, s);
        a.f[0] = x;
        a.f[1] = st[0];
        a.f[2] = st[1];
        a.f[3] = gamma;
        a.f[4] = beta;
        a.f[5] = new double[x.length];
        NormOps.BATCHNORM_FORWARD.reference(a);
        double l = 0;
        for (int i = 0; i < x.length; i++) {
            l += dy[i] * a.f[5][i];
        }
        return l;
    }
}
