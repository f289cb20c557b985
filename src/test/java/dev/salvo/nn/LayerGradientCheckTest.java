package dev.salvo.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.ReferenceDevice;
import dev.salvo.util.Rng;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Backprop through every layer type against central differences, in float64 on the
 * {@link ReferenceDevice} in training mode (design.md, "Tolerances"): eps 1e-6, relative error
 * {@code |g-n|/(|g|+|n|)} at most 1e-7 for smooth networks and 1e-4 where a kink (ReLU, max
 * pooling) may be crossed, a pass wherever {@code |g-n| < 1e-8}. Every parameter is perturbed,
 * so each layer's input gradient is covered by the parameters below it. Fresh random inputs,
 * labels and biases on each run (the seed is in the failure message).
 */
class LayerGradientCheckTest {

    private static final double EPS = 1e-6;

    static Stream<Arguments> networks() {
        return Stream.of(
                Arguments.of("conv, tanh, max pool, strided conv, dense", 1e-4, NetworkSpec.of(new int[] {2, 6, 6},
                        Layers.conv2d(3, 3).pad(1), Layers.activation(Activation.TANH), Layers.maxPool(2),
                        Layers.conv2d(2, 2), Layers.flatten(), Layers.dense(3))),
                Arguments.of("conv stride 2 without bias, batch norm, relu, avg pool, dense, batch norm 1-d", 1e-4,
                        NetworkSpec.of(new int[] {1, 7, 7}, Layers.conv2d(3, 3).stride(2).bias(false), Layers.batchNorm(),
                                Layers.relu(), Layers.avgPool(2), Layers.flatten(), Layers.dense(4), Layers.batchNorm(),
                                Layers.activation(Activation.TANH), Layers.dense(3))),
                Arguments.of("residual add, fan-out, global average pool (smooth)", 1e-7,
                        NetworkSpec.input(2, 5, 5).add("a", Layers.conv2d(3, 3).pad(1)).add(Layers.activation(Activation.TANH))
                                .add("b", Layers.conv2d(3, 3).pad(1)).add(null, Layers.add(), "a", "b")
                                .add(Layers.globalAvgPool()).add(Layers.dense(3)).build()),
                Arguments.of("GPT: token and position embeddings, layer norms, causal attention, GELU MLP, residuals, tied output",
                        1e-6, Gpt.spec(2, 2, 8, 5, 7)),
                Arguments.of("dropout between dense layers, reshape", 1e-7,
                        NetworkSpec.of(new int[] {6}, Layers.dense(8, Activation.TANH), Layers.dropout(0.4),
                                Layers.reshape(2, 2, 2), Layers.flatten(), Layers.dense(3))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void everyParameterGradientMatchesCentralDifferences(String name, double tol, NetworkSpec spec) {
        long seed = System.nanoTime();
        int rows = 4;
        Rng rng = new Rng(seed);
        try (Device d = new ReferenceDevice(); Model m = new Model(d, spec, seed, rows)) {
            double[] p = new double[m.layout().size()];
            d.download(m.parameters(), p);
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                if (t.name().endsWith(".bias") || t.shape().length == 1) { // biases and batch-norm scales: away from 0 and 1
                    for (int k = 0; k < t.length(); k++) {
                        p[t.offset() + k] += 0.3 * rng.nextGaussian();
                    }
                }
            }
            d.upload(p, m.parameters());
            double[] x = new double[rows * spec.inputs()];
            int vocab = tokenVocab(spec);
            for (int i = 0; i < x.length; i++) {
                x[i] = vocab > 0 ? rng.nextInt(vocab) : rng.nextGaussian(); // token ids for a language model
            }
            d.upload(x, m.input().slice(0, x.length));
            int[] labels = new int[rows * spec.positions()];
            for (int r = 0; r < labels.length; r++) {
                labels[r] = rng.nextInt(spec.classes());
            }
            d.upload(labels, m.labels());
            m.train(3); // the same dropout mask in every pass

            loss(m, d, rows);
            m.backward(rows);
            double[] g = new double[p.length];
            d.download(m.gradients(), g);
            int checked = 0;
            for (ParamLayout.Tensor t : m.layout().tensors()) {
                for (int k = 0; k < t.length(); k++) {
                    int i = t.offset() + k;
                    double keep = p[i];
                    p[i] = keep + EPS;
                    d.upload(p, m.parameters());
                    double up = loss(m, d, rows);
                    p[i] = keep - EPS;
                    d.upload(p, m.parameters());
                    double down = loss(m, d, rows);
                    p[i] = keep;
                    d.upload(p, m.parameters());
                    double n = (up - down) / (2 * EPS);
                    double abs = Math.abs(g[i] - n);
                    if (abs >= 1e-8 && !(abs / (Math.abs(g[i]) + Math.abs(n)) <= tol)) {
                        fail(name + ": gradient of " + t.name() + "[" + k + "] is " + g[i] + ", central difference " + n
                                + " (seed " + seed + ")");
                    }
                    checked++;
                }
            }
            assertTrue(checked == m.layout().count(), "every parameter checked");
        }
    }

    /** The vocabulary of a network whose input is token ids (an embedding takes the input), else 0. */
    private static int tokenVocab(NetworkSpec spec) {
        for (NetworkSpec.Vertex v : spec.vertices()) {
            if (v.inputs()[0] == NetworkSpec.INPUT && v.layer().type().equals("embedding")) {
                return ((dev.salvo.nn.layer.Embedding) v.layer()).vocab();
            }
        }
        return 0;
    }

    private static double loss(Model m, Device d, int rows) {
        m.forward(rows);
        m.loss(rows);
        int n = rows * m.positions();
        double[] l = new double[n];
        d.download(m.rowLoss().slice(0, n), l);
        double s = 0;
        for (double v : l) {
            s += v;
        }
        return s / n;
    }
}
