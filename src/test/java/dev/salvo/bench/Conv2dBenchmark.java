package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Tensor;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ConvOps;
import dev.salvo.device.ops.TensorOps;
import dev.salvo.nn.Layer;
import dev.salvo.nn.Layers;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.nn.layer.Conv2d;
import dev.salvo.device.ops.MatmulOps;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * conv2d on the CPU device, through the real {@link Conv2d} layer: its {@link Layer.Runtime} is
 * bound here to buffers of a full batch (the way {@link Model} binds it) and its passes are run
 * as a training step runs them, each call ended by a synchronize:
 * <ul>
 * <li>{@code forward}: the layer's forward pass: {@code conv.im2col}, {@code Gemm(OC, N OH OW, C k^2)},
 * {@code tensor.swap01}.</li>
 * <li>{@code backwardWeights}: the backward pass of the same layer bound without an input gradient
 * (a first layer, whose input is the data): {@code tensor.swap01} of dy and
 * {@code Gemm(OC, C k^2, N OH OW, false, true)}.</li>
 * <li>{@code backwardData}: the input-gradient part of the layer's backward, the calls it makes in
 * that order on buffers of the same sizes: {@code tensor.swap01} of dy,
 * {@code Gemm(C k^2, N OH OW, OC, true, false)} and {@code conv.col2im}.</li>
 * <li>{@code backward}: the layer's whole backward pass with an input gradient (both products,
 * one swap): what a second conv layer costs in a step.</li>
 * </ul>
 * Shapes ({@code shape} = {@code NxCxHxW:OC}, 3x3 kernels, padding 1, stride 1): the Fashion-MNIST
 * CNN's two layers at batch 128 (1 -> 32 channels on 28x28, 32 -> 64 on 14x14) and a ResNet-style
 * 64 -> 64 layer on 56x56 at batch 16.
 *
 * <p>Scores are ms per call; {@link Conv2dReport} turns the JMH JSON into GFLOP/s (forward,
 * backwardWeights, backwardData: {@code 2 N OC OH OW C k^2} FLOPs each; backward twice that) and
 * the fraction of this machine's FMA peak, measured by {@link FmaPeak} in the report's own process.
 * Run: {@code mvn -Pjmh -DskipTests verify -Djmh.include=dev.salvo.bench.Conv2dBenchmark
 * -Dopencl.startup.skip=true}, then the report (RESULTS.md, "Conv2dBenchmark").
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class Conv2dBenchmark {

    /** {@code NxCxHxW:OC}; 3x3 kernel, padding 1, stride 1. */
    @Param({"128x1x28x28:32", "128x32x14x14:64", "16x64x56x56:64"})
    public String shape;

    /** Kernel, padding and stride of every shape. */
    static final int KERNEL = 3;
    static final int PAD = 1;
    static final int STRIDE = 1;

    /** A parsed {@link #shape}. */
    record Shape(int n, int c, int h, int w, int oc) {
        static Shape parse(String s) {
            String[] p = s.split("[x:]");
            if (p.length != 5) {
                throw new IllegalArgumentException("shape: expected NxCxHxW:OC, got " + s);
            }
            return new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), Integer.parseInt(p[3]),
                    Integer.parseInt(p[4]));
        }

        int oh() {
            return (h + 2 * PAD - KERNEL) / STRIDE + 1;
        }

        int ow() {
            return (w + 2 * PAD - KERNEL) / STRIDE + 1;
        }

        /** FLOPs of the forward product {@code 2 N OC OH OW C k^2}; each gradient's product is as many. */
        double flops() {
            return BenchResults.Conv.forwardFlops(n, c, oc, oh(), ow(), KERNEL);
        }
    }

    Device dev;
    Layer.Pass withInputGradient;
    Layer.Pass weightsOnly;
    OpCall swapDy;
    OpCall colGrad;
    OpCall col2im;
    DeviceBuffer weight;
    DeviceBuffer t;
    DeviceBuffer col;
    DeviceBuffer dx;
    final List<DeviceBuffer> owned = new ArrayList<>();

    @Setup(Level.Trial)
    public void setup() {
        Shape s = Shape.parse(shape);
        dev = Devices.open("cpu").device();
        Conv2d conv = new Conv2d(s.oc(), KERNEL, STRIDE, PAD, false);
        // He-initialised weights and random inputs and output gradients, as in a training step
        NetworkSpec one = NetworkSpec.of(new int[] {s.c(), s.h(), s.w()}, conv, Layers.flatten());
        float[] w = Model.initialParameters(one, 1);
        weight = alloc(w.length);
        dev.upload(w, weight);
        DeviceBuffer x = random((long) s.n() * s.c() * s.h() * s.w(), 2);
        DeviceBuffer y = alloc((long) s.n() * s.oc() * s.oh() * s.ow());
        DeviceBuffer dy = random((long) s.n() * s.oc() * s.oh() * s.ow(), 3);
        dx = alloc((long) s.n() * s.c() * s.h() * s.w());
        DeviceBuffer gw = alloc(w.length);
        withInputGradient = new Binding(s, x, y, dy, dx, gw).pass(conv);
        weightsOnly = new Binding(s, x, y, dy, null, gw).pass(conv);
        // backward-data: the layer's own calls for dx, on buffers of the layer's workspace sizes
        int k = s.c() * KERNEL * KERNEL;
        int cols = s.n() * s.oh() * s.ow();
        t = alloc((long) s.oc() * cols);
        col = alloc((long) k * cols);
        swapDy = TensorOps.SWAP01.call(new DeviceBuffer[] {dy, t}, new int[] {s.n(), s.oc(), s.oh() * s.ow()});
        colGrad = MatmulOps.matmul(new Gemm(k, cols, s.oc(), true, false), weight, t, null, Activation.IDENTITY, col, null);
        col2im = ConvOps.COL2IM.call(new DeviceBuffer[] {col, dx},
                new int[] {s.n(), s.c(), s.h(), s.w(), KERNEL, KERNEL, STRIDE, PAD, s.oh(), s.ow()});
        // one of each first: the backward passes read the column matrix the forward pass wrote
        withInputGradient.forward();
        weightsOnly.forward();
        withInputGradient.backward();
        weightsOnly.backward();
        backwardData();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (DeviceBuffer b : owned) {
            b.close();
        }
        dev.close();
    }

    @Benchmark
    public void forward() {
        weightsOnly.forward();
        dev.synchronize();
    }

    @Benchmark
    public void backwardWeights() {
        weightsOnly.backward();
        dev.synchronize();
    }

    @Benchmark
    public void backwardData() {
        dev.run(swapDy);
        dev.run(colGrad);
        dev.run(col2im);
        dev.synchronize();
    }

    @Benchmark
    public void backward() {
        withInputGradient.backward();
        dev.synchronize();
    }

    private DeviceBuffer alloc(long length) {
        DeviceBuffer b = dev.allocFloat(length);
        owned.add(b);
        return b;
    }

    private DeviceBuffer random(long length, long seed) {
        DeviceBuffer b = alloc(length);
        dev.upload(MatmulBenchmark.random(Math.toIntExact(length), seed), b);
        return b;
    }

    /** What {@link Model} hands a layer, for one conv layer on the buffers above (batch N = capacity). */
    private final class Binding implements Layer.Binding {
        private final Shape s;
        private final DeviceBuffer x;
        private final DeviceBuffer y;
        private final DeviceBuffer dy;
        private final DeviceBuffer dx;
        private final DeviceBuffer gw;
        private final Layer.Mode mode = new Layer.Mode();

        Binding(Shape s, DeviceBuffer x, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer gw) {
            this.s = s;
            this.x = x;
            this.y = y;
            this.dy = dy;
            this.dx = dx;
            this.gw = gw;
            mode.set(true, 1);
        }

        Layer.Pass pass(Conv2d conv) {
            return conv.bind(this).pass(s.n());
        }

        @Override
        public Device device() {
            return dev;
        }

        @Override
        public int capacity() {
            return s.n();
        }

        private Tensor image(DeviceBuffer b, int c, int h, int w) {
            return b == null ? null : Tensor.of(b, s.n(), c, h, w);
        }

        @Override
        public Tensor x(int i) {
            return image(x, s.c(), s.h(), s.w());
        }

        @Override
        public Tensor y() {
            return image(y, s.oc(), s.oh(), s.ow());
        }

        @Override
        public Tensor dy() {
            return image(dy, s.oc(), s.oh(), s.ow());
        }

        @Override
        public Tensor dx(int i) {
            return image(dx, s.c(), s.h(), s.w());
        }

        @Override
        public Tensor param(String name) {
            return Tensor.of(weight, s.oc(), s.c(), KERNEL, KERNEL);
        }

        @Override
        public Tensor grad(String name) {
            return Tensor.of(gw, s.oc(), s.c(), KERNEL, KERNEL);
        }

        @Override
        public Tensor sharedParam(String fullName) {
            throw new UnsupportedOperationException("a lone conv2d ties to nothing");
        }

        @Override
        public Tensor sharedGrad(String fullName) {
            throw new UnsupportedOperationException("a lone conv2d ties to nothing");
        }

        @Override
        public Tensor scratch(String key, int... dims) {
            return floats(dims);
        }

        @Override
        public boolean gradShared(String name) {
            return false;
        }

        @Override
        public Tensor state(String name) {
            throw new IllegalArgumentException("conv2d has no state");
        }

        @Override
        public Tensor floats(int... dims) {
            return Tensor.of(alloc(Tensor.numel(dims)), dims);
        }

        @Override
        public Tensor ints(int... dims) {
            DeviceBuffer b = dev.allocInt(Tensor.numel(dims));
            owned.add(b);
            return Tensor.of(b, dims);
        }

        @Override
        public long randomKey() {
            return 0;
        }

        @Override
        public Layer.Mode mode() {
            return mode;
        }
    }
}
