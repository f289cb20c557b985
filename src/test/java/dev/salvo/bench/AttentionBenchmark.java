package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.ops.AttentionOps;
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
 * Causal multi-head self-attention, the part between {@code c_attn} and {@code c_proj}, as the
 * sequence of declared ops {@link dev.salvo.nn.layer.CausalAttention} runs (the same calls; the layer
 * reuses some buffers, e.g. dP in S's place), through the device interface with every
 * operand resident, each pass ended by a synchronize:
 * <ul>
 * <li>{@code forward}: {@code heads_split} of qkv {@code (B, T, 3, H, D)} into
 * {@code (3, B, H, T, D)}; scores {@code S = q k^T} (a strided batched matmul over the B H
 * heads); {@code causal_softmax} of {@code S / sqrt(D)} into P; {@code O = P v}; {@code heads_merge}
 * of O into {@code (B, T, C)}.</li>
 * <li>{@code backward}: {@code heads_split} of dy; {@code dP = dO v^T}; {@code dV = P^T dO};
 * {@code causal_softmax_backward} into dS; {@code dQ = dS k}; {@code dK = dS^T q};
 * {@code heads_merge} of (dQ, dK, dV) into dqkv {@code (B, T, 3C)}.</li>
 * </ul>
 * Shapes ({@code shape} = {@code BxTxHxD}): the baby-GPT recipe's ({@code 12x64x4x32}: batch 12,
 * context 64, 4 heads, 128 wide) and GPT-2 small's ({@code 1x1024x12x64} and {@code 4x1024x12x64}),
 * on the CPU provider and on OpenCL device 0 (PoCL here), as {@link DeviceMatmulBenchmark} does.
 *
 * <p>Scores are ms per pass; {@link AttentionReport} turns the JMH JSON into GFLOP/s and the
 * fraction of this machine's FMA peak. FLOPs count the full {@code T x T} products computed (the
 * masked half included): forward 2 products of {@code 2 B H T T D} each, backward 4.
 * Run: {@code mvn -Pjmh -DskipTests verify -Djmh.include=dev.salvo.bench.AttentionBenchmark
 * -Dopencl.startup.skip=true}, then the report (RESULTS.md, "AttentionBenchmark").
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx6g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 5, time = 1)
@State(Scope.Benchmark)
public class AttentionBenchmark {

    @Param({"cpu:0", "opencl:0"})
    public String device;

    /** {@code BxTxHxD}. */
    @Param({"12x64x4x32", "1x1024x12x64", "4x1024x12x64"})
    public String shape;

    /** A parsed {@link #shape}. */
    record Shape(int b, int t, int h, int d) {
        static Shape parse(String s) {
            String[] p = s.split("x");
            if (p.length != 4) {
                throw new IllegalArgumentException("shape: expected BxTxHxD, got " + s);
            }
            Shape r = new Shape(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]), Integer.parseInt(p[3]));
            if (r.b < 1 || r.t < 1 || r.h < 1 || r.d < 1) {
                throw new IllegalArgumentException("shape: every size must be at least 1, got " + s);
            }
            return r;
        }

        int c() {
            return h * d;
        }

        /** FLOPs of one {@code T x T x D} product over every head: {@code 2 B H T T D}. */
        double productFlops() {
            return 2.0 * b * h * t * t * d;
        }

        /** Forward: 2 products (q k^T, P v). */
        double forwardFlops() {
            return 2 * productFlops();
        }

        /** Backward: 4 products (dO v^T, P^T dO, dS k, dS^T q). */
        double backwardFlops() {
            return 4 * productFlops();
        }
    }

    Device dev;
    final List<OpCall> forwardCalls = new ArrayList<>();
    final List<OpCall> backwardCalls = new ArrayList<>();
    final List<DeviceBuffer> owned = new ArrayList<>();
    DeviceBuffer y;
    DeviceBuffer dqkv;

    @Setup(Level.Trial)
    public void setup() {
        Shape s = Shape.parse(shape);
        dev = Devices.open(device).device();
        int b = s.b();
        int t = s.t();
        int h = s.h();
        int d = s.d();
        int c = s.c();
        long head = (long) b * h * t * d; // one of q, k, v in (B, H, T, D)
        long scores = (long) b * h * t * t;
        double scale = 1 / Math.sqrt(d);
        // activations as in a training step: qkv from c_attn, dy from c_proj's backward
        DeviceBuffer qkv = random(3 * head, 1, 1.0);
        DeviceBuffer dy = random(head, 2, 1e-2);
        DeviceBuffer split = alloc(3 * head);
        DeviceBuffer sc = alloc(scores);
        DeviceBuffer p = alloc(scores);
        DeviceBuffer o = alloc(head);
        y = alloc(head);
        DeviceBuffer dOut = alloc(head);
        DeviceBuffer dp = alloc(scores);
        DeviceBuffer ds = alloc(scores);
        DeviceBuffer dsplit = alloc(3 * head);
        dqkv = alloc(3 * head);
        Tensor q = Tensor.of(split, 3, b, h, t, d).select(0, 0);
        Tensor k = Tensor.of(split, 3, b, h, t, d).select(0, 1);
        Tensor v = Tensor.of(split, 3, b, h, t, d).select(0, 2);
        Tensor st = Tensor.of(sc, b, h, t, t);
        Tensor pt = Tensor.of(p, b, h, t, t);
        Tensor ot = Tensor.of(o, b, h, t, d);
        Tensor dot = Tensor.of(dOut, b, h, t, d);
        Tensor dpt = Tensor.of(dp, b, h, t, t);
        Tensor dst = Tensor.of(ds, b, h, t, t);
        Tensor dq = Tensor.of(dsplit, 3, b, h, t, d).select(0, 0);
        Tensor dk = Tensor.of(dsplit, 3, b, h, t, d).select(0, 1);
        Tensor dv = Tensor.of(dsplit, 3, b, h, t, d).select(0, 2);

        forwardCalls.add(AttentionOps.headsSplit(b, t, 3, h, d, qkv, split));
        forwardCalls.add(MatmulOps.matmul(q, k.transpose(-1, -2), null, Activation.IDENTITY, st, null));
        forwardCalls.add(AttentionOps.causalSoftmax(b * h, t, scale, sc, p));
        forwardCalls.add(MatmulOps.matmul(pt, v, null, Activation.IDENTITY, ot, null));
        forwardCalls.add(AttentionOps.headsMerge(b, t, 1, h, d, o, y));

        backwardCalls.add(AttentionOps.headsSplit(b, t, 1, h, d, dy, dOut));
        backwardCalls.add(MatmulOps.matmul(dot, v.transpose(-1, -2), null, Activation.IDENTITY, dpt, null));
        backwardCalls.add(MatmulOps.matmul(pt.transpose(-1, -2), dot, null, Activation.IDENTITY, dv, null));
        backwardCalls.add(AttentionOps.causalSoftmaxBackward(b * h, t, scale, p, dp, ds));
        backwardCalls.add(MatmulOps.matmul(dst, k, null, Activation.IDENTITY, dq, null));
        backwardCalls.add(MatmulOps.matmul(dst.transpose(-1, -2), q, null, Activation.IDENTITY, dk, null));
        backwardCalls.add(AttentionOps.headsMerge(b, t, 3, h, d, dsplit, dqkv));
        // once each first: backward reads the forward's split and P; OpenCL compiles its kernels now
        forward();
        backward();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (DeviceBuffer x : owned) {
            x.close();
        }
        owned.clear();
        dev.close();
    }

    @Benchmark
    public void forward() {
        for (OpCall call : forwardCalls) {
            dev.run(call);
        }
        dev.synchronize();
    }

    @Benchmark
    public void backward() {
        for (OpCall call : backwardCalls) {
            dev.run(call);
        }
        dev.synchronize();
    }

    private DeviceBuffer alloc(long length) {
        DeviceBuffer x = dev.allocFloat(length);
        owned.add(x);
        return x;
    }

    private DeviceBuffer random(long length, long seed, double scale) {
        DeviceBuffer x = alloc(length);
        float[] host = MatmulBenchmark.random(Math.toIntExact(length), seed);
        for (int i = 0; i < host.length; i++) {
            host[i] *= (float) scale;
        }
        dev.upload(host, x);
        return x;
    }
}
