package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.cpu.ReferenceDevice;
import dev.salvo.nn.layer.Dense;
import dev.salvo.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Backprop checked against central differences (design.md, "Tolerances"): everything in float64 on the
 * {@link ReferenceDevice}, eps 1e-6, relative error {@code |g-n|/(|g|+|n|)} at most 1e-7 for smooth
 * functions and 1e-4 where a kink may be crossed, a pass wherever {@code |g-n| < 1e-8}. Inputs are
 * drawn so that no pre-activation lies within 1e-3 of a kink. Every parameter and every input of
 * the batch is checked, so each layer's weight, bias and input gradient is covered.
 */
class GradientCheckTest {

    private static final double EPS = 1e-6;

    /** Loss of the batch now in the model's input, in float64. */
    private static double loss(Model m, Device d, int rows) {
        m.forward(rows);
        m.loss(rows);
        double[] l = new double[rows];
        d.download(m.rowLoss().slice(0, rows), l);
        double s = 0;
        for (double v : l) {
            s += v;
        }
        return s / rows;
    }

    private static void check(NetworkSpec spec, int rows, long seed, double tol) {
        Rng rng = new Rng(seed);
        try (Device d = new ReferenceDevice(); Model m = new Model(d, spec, seed, rows)) {
            double[] x = new double[rows * spec.inputs()];
            double[] p = new double[m.layout().size()];
            d.download(m.parameters(), p);
            // biases start at zero: give them values so their gradients mean something
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                if (t.name().endsWith(".bias")) {
                    for (int k = 0; k < t.length(); k++) {
                        p[t.offset() + k] = 0.3 * rng.nextGaussian();
                    }
                }
            }
            d.upload(p, m.parameters());
            int c = spec.outputs();
            int[] labels = new int[rows];
            double[] targets = new double[rows * c];
            for (int r = 0; r < rows; r++) {
                labels[r] = rng.nextInt(c);
                for (int j = 0; j < c; j++) {
                    targets[r * c + j] = rng.nextDouble();
                }
            }
            d.upload(labels, m.labels());
            if (m.targets() != null) {
                d.upload(targets, m.targets());
            }
            drawAwayFromKinks(spec, m, d, rng, x, rows);

            // analytic gradients
            loss(m, d, rows);
            m.backward(rows);
            double[] g = new double[p.length];
            d.download(m.gradients(), g);

            int checked = 0;
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                for (int k = 0; k < t.length(); k++) {
                    int i = t.offset() + k;
                    double n = numeric(m, d, rows, m.parameters(), p, i);
                    compare(spec, t.name() + "[" + k + "]", g[i], n, tol);
                    checked++;
                }
            }
            // input gradients: perturb the input and compare with the chain rule through the first layer
            double[] gx = inputGradient(m, d, spec, rows, x, p);
            for (int i = 0; i < x.length; i++) {
                double n = numeric(m, d, rows, m.input(), x, i);
                compare(spec, "input[" + i + "]", gx[i], n, tol);
                checked++;
            }
            assertTrue(checked > 0);
        }
    }

    /**
     * The gradient with respect to the input, {@code dL/dX = dZ0 W0 / rows}, with each row's
     * {@code dZ0} read from layer 0's bias gradient in a one-row backward pass (the bias gradient
     * is itself checked above). Compared against central differences on X.
     */
    private static double[] inputGradient(Model m, Device d, NetworkSpec spec, int rows, double[] x, double[] p) {
        int in = spec.inputs();
        double[] gx = new double[rows * in];
        ParamLayout.Tensor w0 = m.layout().tensors().get(0);
        ParamLayout.Tensor b0 = m.layout().tensors().get(1);
        int out = w0.shape()[0];
        double[] row = new double[in];
        double[] gb = new double[out];
        try (Model one = new Model(d, spec, 0L, 1)) {
            d.upload(p, one.parameters());
            int[] lab = new int[rows];
            d.download(m.labels().slice(0, rows), lab);
            double[] tgt = null;
            if (m.targets() != null) {
                tgt = new double[rows * spec.outputs()];
                d.download(m.targets().slice(0, (long) rows * spec.outputs()), tgt);
            }
            for (int r = 0; r < rows; r++) {
                System.arraycopy(x, r * in, row, 0, in);
                d.upload(row, one.input());
                d.upload(new int[] {lab[r]}, one.labels());
                if (tgt != null) {
                    double[] t = new double[spec.outputs()];
                    System.arraycopy(tgt, r * spec.outputs(), t, 0, t.length);
                    d.upload(t, one.targets());
                }
                one.forward(1);
                one.loss(1);
                one.backward(1);
                d.download(one.gradients().slice(b0.offset(), out), gb); // dZ0 of this row (batch of 1)
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int j = 0; j < out; j++) {
                        s += gb[j] * p[w0.offset() + j * in + i];
                    }
                    gx[r * in + i] = s / rows; // the batch loss is the mean over rows
                }
            }
        }
        return gx;
    }

    private static double numeric(Model m, Device d, int rows, DeviceBuffer buf, double[] host, int i) {
        double keep = host[i];
        host[i] = keep + EPS;
        d.upload(host, buf.slice(0, host.length));
        double up = loss(m, d, rows);
        host[i] = keep - EPS;
        d.upload(host, buf.slice(0, host.length));
        double down = loss(m, d, rows);
        host[i] = keep;
        d.upload(host, buf.slice(0, host.length));
        return (up - down) / (2 * EPS);
    }

    private static void compare(NetworkSpec spec, String what, double g, double n, double tol) {
        double abs = Math.abs(g - n);
        if (abs < 1e-8) {
            return;
        }
        double rel = abs / (Math.abs(g) + Math.abs(n));
        if (!(rel <= tol)) {
            fail(spec.describe() + ": gradient of " + what + " is " + g + ", central difference " + n + " (relative error " + rel
                    + " > " + tol + ")");
        }
    }

    /** Redraws inputs until every pre-activation of every layer with a kink is at least 1e-3 away from 0. */
    private static void drawAwayFromKinks(NetworkSpec spec, Model m, Device d, Rng rng, double[] x, int rows) {
        for (int attempt = 0; attempt < 1000; attempt++) {
            for (int i = 0; i < x.length; i++) {
                x[i] = rng.nextGaussian();
            }
            d.upload(x, m.input().slice(0, x.length));
            if (!hasKink(spec) || kinkMargin(spec, m, d, x, rows) > 1e-3) {
                return;
            }
        }
        fail("could not draw inputs away from the kinks");
    }

    private static boolean hasKink(NetworkSpec spec) {
        return spec.layers().stream().anyMatch(l -> l instanceof Dense dl && dl.activation().hasKink());
    }

    /** Smallest |z| over the pre-activations of kinked layers, computed on the host in float64. */
    private static double kinkMargin(NetworkSpec spec, Model m, Device d, double[] x, int rows) {
        double[] p = new double[m.layout().size()];
        d.download(m.parameters(), p);
        double[] a = x.clone();
        int in = spec.inputs();
        int t = 0;
        double margin = Double.POSITIVE_INFINITY;
        for (Layer l : spec.layers()) {
            if (!(l instanceof Dense dl)) {
                continue;
            }
            ParamLayout.Tensor w = m.layout().tensors().get(t++);
            ParamLayout.Tensor b = m.layout().tensors().get(t++);
            int out = dl.units();
            double[] z = new double[rows * out];
            for (int r = 0; r < rows; r++) {
                for (int j = 0; j < out; j++) {
                    double s = p[b.offset() + j];
                    for (int k = 0; k < in; k++) {
                        s += a[r * in + k] * p[w.offset() + j * in + k];
                    }
                    z[r * out + j] = s;
                    if (dl.activation().hasKink()) {
                        margin = Math.min(margin, Math.abs(s));
                    }
                }
            }
            a = new double[z.length];
            for (int i = 0; i < z.length; i++) {
                a[i] = dl.activation().apply(z[i]);
            }
            in = out;
        }
        return margin;
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void denseLayerWithEachActivationUnderCrossEntropy(Activation act) {
        NetworkSpec spec = NetworkSpec.input(5).dense(6, act).dense(4).build();
        check(spec, 3, 11, act.hasKink() ? 1e-4 : 1e-7);
    }

    @ParameterizedTest
    @EnumSource(Activation.class)
    void denseLayerWithEachActivationUnderMeanSquaredError(Activation act) {
        NetworkSpec spec = NetworkSpec.input(4).dense(5, act).dense(3, act).loss(Loss.MSE).build();
        check(spec, 3, 12, act.hasKink() ? 1e-4 : 1e-7);
    }

    @Test
    void softmaxLayerUnderMeanSquaredError() {
        NetworkSpec spec = NetworkSpec.input(4).dense(6, Activation.TANH).dense(5).softmax().loss(Loss.MSE).build();
        check(spec, 4, 13, 1e-7);
    }

    @Test
    void softmaxLayerInTheMiddle() {
        NetworkSpec spec = NetworkSpec.input(3).dense(5).softmax().dense(4, Activation.SIGMOID).dense(3).build();
        check(spec, 3, 14, 1e-7);
    }

    @Test
    void wholeThreeLayerNetwork() {
        NetworkSpec spec = NetworkSpec.input(6).dense(8, Activation.TANH).dense(7, Activation.GELU).dense(4).build();
        check(spec, 5, 15, 1e-7);
    }

    @Test
    void wholeThreeLayerReluNetwork() {
        NetworkSpec spec = NetworkSpec.input(6).dense(8, Activation.RELU).dense(7, Activation.LEAKY_RELU).dense(4).build();
        check(spec, 4, 16, 1e-4);
    }
}
