package dev.salvo.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.nn.Layers;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.ParamLayout;
import dev.salvo.util.Rng;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvProfiler} on tiny shapes: the wrapped network is the same network (layout, JSON,
 * every gradient bit for bit), and each conv layer's account has the shapes, FLOPs and calls of
 * what ran. Timing values are never asserted, only that they are positive.
 */
class BenchConvProfilerTest {

    /** Two conv layers (the second on a stride-2 window, with a bias), as a chain with named layers. */
    private static NetworkSpec net() {
        return NetworkJson.parse("{\"input\": [2, 6, 6], \"layers\": ["
                + "{\"type\": \"conv2d\", \"out\": 3, \"kernel\": 3, \"padding\": 1, \"bias\": false, \"name\": \"c1\"},"
                + "{\"type\": \"batchnorm\"}, {\"type\": \"relu\"},"
                + "{\"type\": \"conv2d\", \"out\": 4, \"kernel\": 3, \"stride\": 2},"
                + "{\"type\": \"relu\"}, {\"type\": \"flatten\"}, {\"type\": \"dense\", \"units\": 5}]}");
    }

    @Test
    void theWrappedNetworkIsTheSameNetworkAndEveryConvCallIsAccounted() {
        NetworkSpec spec = net();
        int rows = 7;
        float[] initial = Model.initialParameters(spec, 3);
        Rng rng = new Rng(11);
        float[] x = new float[rows * spec.inputs()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        int[] y = {0, 1, 2, 3, 4, 0, 1};
        try (Device cpu = Devices.open("cpu").device()) {
            TimingDevice timing = new TimingDevice(cpu);
            ConvProfiler profiler = new ConvProfiler(timing);
            NetworkSpec wrapped = profiler.wrap(spec);
            assertTrue(profiler.hasConv());
            assertEquals(spec.describe(), wrapped.describe());
            assertEquals(NetworkJson.write(spec), NetworkJson.write(wrapped), "the same JSON");
            assertEquals(ParamLayout.of(spec).size(), ParamLayout.of(wrapped).size(), "the same parameter layout");
            assertEquals(ParamLayout.of(spec).tensors().stream().map(t -> t.name() + "@" + t.offset()).toList(),
                    ParamLayout.of(wrapped).tensors().stream().map(t -> t.name() + "@" + t.offset()).toList());
            assertArrayEquals(initial, Model.initialParameters(wrapped, 3), "the same initial parameters");

            float[] plain = gradients(cpu, spec, initial, x, y, rows, 1);
            profiler.reset();
            float[] timed = gradients(timing, wrapped, initial, x, y, rows, 2);
            assertArrayEquals(plain, timed, "the timed layers compute exactly what the layers compute");

            List<BenchResults.Conv> conv = profiler.results("cpu:0", "tiny", 8);
            assertEquals(2, conv.size(), conv::toString);
            BenchResults.Conv c1 = conv.get(0);
            assertEquals("c1", c1.layer());
            assertEquals("tiny", c1.model());
            assertEquals("cpu:0", c1.source());
            assertEquals(List.of(8, 2, 6, 6, 3, 3, 1, 1, 6, 6), List.of(c1.batch(), c1.channels(), c1.height(), c1.width(),
                    c1.outChannels(), c1.kernel(), c1.stride(), c1.pad(), c1.outHeight(), c1.outWidth()));
            assertFalse(c1.inputGradient(), "the first layer's input is the data");
            assertEquals(2.0 * 8 * 3 * 6 * 6 * 2 * 9, c1.forwardFlops());
            assertEquals(c1.forwardFlops(), c1.backwardFlops(), "weights only");
            BenchResults.Conv c2 = conv.get(1);
            assertEquals("layers.3", c2.layer());
            assertEquals(List.of(3, 6, 6, 4, 2, 0, 2, 2), List.of(c2.channels(), c2.height(), c2.width(), c2.outChannels(),
                    c2.stride(), c2.pad(), c2.outHeight(), c2.outWidth()));
            assertTrue(c2.inputGradient());
            assertEquals(2.0 * 8 * 4 * 2 * 2 * 3 * 9, c2.forwardFlops());
            assertEquals(2 * c2.forwardFlops(), c2.backwardFlops(), "weights and input");
            for (BenchResults.Conv c : conv) {
                assertEquals(2, c.forwardGflops().values().size(), "one sample per forward call: " + c);
                assertEquals(2, c.backwardGflops().values().size(), "one sample per backward call: " + c);
                assertTrue(c.forwardGflops().min() > 0 && c.backwardGflops().min() > 0, c::toString);
                assertTrue(c.forwardGemmShare() > 0 && c.forwardGemmShare() <= 1, c::toString);
                assertTrue(c.backwardGemmShare() > 0 && c.backwardGemmShare() <= 1, c::toString);
                assertEquals(ConvProfiler.METHOD, c.method());
            }
            assertEquals("2x6x6 -> 3x6x6 3x3 p1", c1.shape());
            assertEquals("3x6x6 -> 4x2x2 3x3 s2", c2.shape());

            profiler.reset();
            assertTrue(profiler.results("cpu:0", "tiny", 8).isEmpty(), "nothing ran since the reset");
        }
    }

    @Test
    void aNetworkWithoutConvIsLeftAsItIs() {
        NetworkSpec mlp = NetworkSpec.of(new int[] {6}, Layers.dense(4), Layers.relu(), Layers.dense(3));
        try (Device cpu = Devices.open("cpu").device()) {
            ConvProfiler profiler = new ConvProfiler(new TimingDevice(cpu));
            NetworkSpec same = profiler.wrap(mlp);
            assertFalse(profiler.hasConv());
            assertEquals(mlp, same);
            assertTrue(profiler.results("cpu:0", "mlp", 4).isEmpty());
        }
    }

    @Test
    void theRecipeNetworksFlopsAreTheConvolutionsOwn() {
        NetworkSpec cnn = BenchModel.FASHION_CNN.spec();
        assertEquals(784, cnn.inputs());
        assertEquals(10, cnn.outputs());
        // conv 1 -> 32 on 28x28 and 32 -> 64 on 14x14, 3x3, at batch 128
        assertEquals(2.0 * 128 * 32 * 28 * 28 * 1 * 9, BenchResults.Conv.forwardFlops(128, 1, 32, 28, 28, 3));
        assertEquals(2.0 * 128 * 64 * 14 * 14 * 32 * 9, BenchResults.Conv.forwardFlops(128, 32, 64, 14, 14, 3));
        assertNull(BenchModel.FASHION_MLP.resource());
        assertTrue(BenchModel.FASHION_CNN.isNetwork());
        assertEquals(BenchModel.FASHION_CNN, BenchModel.parse("cnn"));
        assertEquals(BenchModel.FASHION_CNN, BenchModel.parse(" Fashion-CNN "));
        assertEquals(cnn, NetworkJson.parse(BenchModel.FASHION_CNN.json()));
    }

    /** One training step's forward, loss and backward on {@code d}; the gradients. */
    private static float[] gradients(Device d, NetworkSpec spec, float[] initial, float[] x, int[] y, int rows, int passes) {
        try (Model m = new Model(d, spec, initial, rows)) {
            d.upload(x, m.input().slice(0, (long) rows * spec.inputs()));
            d.upload(y, m.labels().slice(0, rows));
            m.train(1);
            float[] g = new float[m.layout().size()];
            for (int p = 0; p < passes; p++) {
                d.run(ElementwiseOps.fill(m.gradients(), 0));
                m.forward(rows);
                m.loss(rows);
                m.backward(rows);
            }
            d.download(m.gradients(), g);
            return g;
        }
    }
}
