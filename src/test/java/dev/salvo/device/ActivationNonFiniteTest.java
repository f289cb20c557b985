package dev.salvo.device;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.ReferenceOps;
import dev.salvo.device.ops.ElementwiseOps;
import org.junit.jupiter.api.Test;

/**
 * The float64 specification ({@link Activation}, {@link ReferenceOps}, and through them the
 * reference device) against PyTorch 1.13 on non-finite inputs. The expected values were printed by
 * {@code torch.nn.functional} (relu, leaky_relu(0.01), sigmoid, tanh, gelu(approximate='tanh'))
 * for inputs {@code [nan, 1, -1, inf, -inf]} with upstream gradient 1, and for inputs
 * {@code [2, -2, 0]} with upstream gradient NaN; {@code cross_entropy} and {@code argmax} likewise.
 */
class ActivationNonFiniteTest {

    private static final double NAN = Double.NaN;
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final double[] X = {NAN, 1, -1, INF, -INF};
    private static final double[] X2 = {2, -2, 0};

    private static void same(String what, double[] expected, double[] got) {
        assertEquals(expected.length, got.length, what);
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i];
            double g = got[i];
            boolean ok = Double.isNaN(e) ? Double.isNaN(g) : Double.isInfinite(e) ? e == g : Math.abs(e - g) <= 1e-6;
            assertTrue(ok, what + " element " + i + ": expected " + e + ", got " + g);
        }
    }

    private static void pytorch(Activation act, double[] forward, double[] grad, double[] gradOfNaN) {
        double[] ones = {1, 1, 1, 1, 1};
        same(act + " forward", forward, ReferenceOps.activation(act, X));
        same(act + " backward", grad, ReferenceOps.activationBackward(act, X, ones));
        same(act + " backward of a NaN gradient", gradOfNaN, ReferenceOps.activationBackward(act, X2, new double[] {NAN, NAN, NAN}));
    }

    @Test
    void reluPropagatesNaNForwardAndSelectsInBackward() {
        pytorch(Activation.RELU, new double[] {NAN, 1, 0, INF, 0}, new double[] {1, 1, 0, 1, 0}, new double[] {NAN, 0, 0});
    }

    @Test
    void leakyRelu() {
        pytorch(Activation.LEAKY_RELU, new double[] {NAN, 1, -0.01, INF, -INF}, new double[] {0.01, 1, 0.01, 1, 0.01},
                new double[] {NAN, NAN, NAN});
    }

    @Test
    void sigmoidTanhGelu() {
        pytorch(Activation.SIGMOID, new double[] {NAN, 0.7310585786, 0.2689414214, 1, 0}, new double[] {NAN, 0.1966119332, 0.1966119332, 0, 0},
                new double[] {NAN, NAN, NAN});
        pytorch(Activation.TANH, new double[] {NAN, 0.7615941560, -0.7615941560, 1, -1}, new double[] {NAN, 0.4199743416, 0.4199743416, 0, 0},
                new double[] {NAN, NAN, NAN});
        pytorch(Activation.GELU, new double[] {NAN, 0.8411919906, -0.1588080094, INF, NAN}, new double[] {NAN, 1.0829640838, -0.0829640838, NAN, NAN},
                new double[] {NAN, NAN, NAN});
        pytorch(Activation.IDENTITY, X, new double[] {1, 1, 1, 1, 1}, new double[] {NAN, NAN, NAN});
    }

    /** F.cross_entropy(reduction='none') of [[nan,1,2],[1,2,3],[inf,1,0]], labels [1,0,0]: rows with NaN or +inf are NaN throughout. */
    @Test
    void crossEntropySoftmaxAndArgmax() {
        double[] x = {NAN, 1, 2, 1, 2, 3, INF, 1, 0};
        ReferenceOps.LossResult r = ReferenceOps.softmaxCrossEntropy(3, 3, x, new int[] {1, 0, 0}, 1);
        same("loss", new double[] {NAN, 2.4076059644, NAN}, r.rowLoss());
        same("gradient", new double[] {NAN, NAN, NAN, -0.9099694268, 0.2447284711, 0.6652409558, NAN, NAN, NAN}, r.grad());
        same("softmax", new double[] {NAN, NAN, NAN, NAN}, ReferenceOps.softmax(2, 2, new double[] {NAN, 1, INF, 1}));
        // torch.argmax([[1, nan, nan, 5], [1, 2, 3, 0]], dim=1) = [1, 2]: the first NaN is the maximum
        assertArrayEquals(new int[] {1, 2}, ReferenceOps.argmax(2, 4, new double[] {1, NAN, NAN, 5, 1, 2, 3, 0}));
        assertArrayEquals(new int[] {0, 3}, ReferenceOps.argmax(2, 4, new double[] {NAN, 9, NAN, 5, -INF, -INF, 1, 3}));
    }

    /** The reference device runs the same specification. */
    @Test
    void theReferenceDevicePropagatesNaN() {
        try (Device d = Devices.open("reference").device()) {
            DeviceBuffer x = d.allocFloat(5);
            DeviceBuffer y = d.allocFloat(5);
            d.upload(X, x);
            d.run(ElementwiseOps.activationForward(Activation.RELU, x, y));
            double[] got = new double[5];
            d.download(y, got);
            same("reference device relu", new double[] {NAN, 1, 0, INF, 0}, got);
        }
    }
}
