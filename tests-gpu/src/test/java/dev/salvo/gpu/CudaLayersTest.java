package dev.salvo.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceContract;
import dev.salvo.device.Devices;
import dev.salvo.nn.Layers;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.layer.AvgPool;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every layer on a GPU: a training pass (train mode: batch statistics, dropout and random flips
 * drawn from the counter-based generator) of small networks that together use every layer type,
 * on {@code cuda:0} against the float64 reference device: the loss within 1e-5 relative, the
 * logits within {@code 1e-5 max|ref| + 1e-6} and every parameter gradient within
 * {@code 1e-4 max|ref| + 1e-6} (the bounds of the PyTorch check, design.md). The per-op bounds are
 * the device contract's ({@code CudaContractTest}); this checks the layers' wiring on the GPU.
 */
class CudaLayersTest {

    static Stream<Arguments> networks() {
        return Stream.of(
                Arguments.of("conv, batch norm, relu, max pool, dropout, dense", NetworkSpec.of(new int[] {3, 16, 16},
                        Layers.randomFlip(), Layers.conv2d(8, 3).pad(1).bias(false), Layers.batchNorm(), Layers.relu(),
                        Layers.maxPool(2), Layers.conv2d(16, 3).pad(1), Layers.relu(), Layers.maxPool(2), Layers.flatten(),
                        Layers.dropout(0.3), Layers.dense(32), Layers.batchNorm(), Layers.relu(), Layers.dense(10))),
                Arguments.of("strided conv, average pooling, residual add, global pooling", NetworkSpec.input(2, 12, 12)
                        .add("a", Layers.conv2d(6, 3).pad(1)).add(Layers.activation(Activation.TANH))
                        .add("b", Layers.conv2d(6, 3).pad(1)).add(null, Layers.add(), "a", "b")
                        .add(new AvgPool(3, 1, 1)).add(Layers.conv2d(8, 3).stride(2)).add(Layers.globalAvgPool())
                        .add(Layers.dense(5)).build()),
                Arguments.of("dense, reshape, softmax under MSE", NetworkSpec.input(20).dense(24, Activation.GELU)
                        .add(Layers.reshape(2, 3, 4)).add(Layers.flatten()).dense(6).softmax()
                        .loss(dev.salvo.nn.Loss.MSE).build()),
                Arguments.of("GPT: embeddings, layer norm, causal attention, GELU MLP, residuals, tied output, every position",
                        dev.salvo.nn.Gpt.spec(2, 4, 64, 32, 70)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("networks")
    void aTrainingPassOnTheGpuMatchesTheReference(String name, NetworkSpec spec) {
        DeviceContract.availableOrSkip("cuda");
        int rows = 24;
        long seed = System.nanoTime();
        Random r = new Random(seed);
        float[] x = new float[rows * spec.inputs()];
        boolean tokens = spec.vertices().get(0).layer().type().equals("embedding"); // a GPT: the input is token ids
        for (int i = 0; i < x.length; i++) {
            x[i] = tokens ? r.nextInt(spec.classes()) : (float) r.nextGaussian();
        }
        int positions = spec.positions();
        int[] labels = new int[rows * positions];
        float[] targets = new float[rows * spec.outputs()];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = r.nextInt(spec.classes());
        }
        for (int i = 0; i < rows && positions == 1; i++) {
            targets[i * spec.outputs() + labels[i]] = 1;
        }
        float[][] logits = new float[2][];
        float[][] grads = new float[2][];
        double[] loss = new double[2];
        String[] devices = {"reference", "cuda:0"};
        for (int k = 0; k < 2; k++) {
            try (Device d = Devices.open(devices[k]).device(); Model m = new Model(d, spec, 42, rows)) {
                d.upload(x, m.input().slice(0, x.length));
                d.upload(labels, m.labels().slice(0, labels.length));
                if (m.targets() != null) {
                    d.upload(targets, m.targets().slice(0, targets.length));
                }
                m.train(7);
                m.forward(rows);
                m.loss(rows);
                m.backward(rows);
                logits[k] = new float[rows * spec.outputs()];
                d.download(m.output().slice(0, logits[k].length), logits[k]);
                float[] rl = new float[rows * positions];
                d.download(m.rowLoss().slice(0, rl.length), rl);
                for (float v : rl) {
                    loss[k] += v;
                }
                grads[k] = new float[m.layout().size()];
                d.download(m.gradients(), grads[k]);
            }
        }
        assertTrue(Math.abs(loss[1] - loss[0]) <= 1e-5 * Math.abs(loss[0]), name + ": loss " + loss[1] + " vs " + loss[0]
                + " (seed " + seed + ")");
        within(name + " logits", logits[0], logits[1], 1e-5, seed);
        within(name + " gradients", grads[0], grads[1], 1e-4, seed);
    }

    private static void within(String what, float[] ref, float[] got, double rel, long seed) {
        double max = 0;
        for (float v : ref) {
            max = Math.max(max, Math.abs(v));
        }
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs(got[i] - (double) ref[i]);
            assertTrue(err <= rel * max + 1e-6, what + "[" + i + "] is " + got[i] + ", reference " + ref[i] + " (seed " + seed + ")");
        }
    }
}
