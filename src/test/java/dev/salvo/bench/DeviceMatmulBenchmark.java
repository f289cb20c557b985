package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.MatmulOps;
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
 * The matmul op through the device interface, operands resident on the device:
 * {@code C (n,n) = A B} then a synchronize, on the CPU provider and on OpenCL device 0 (PoCL here),
 * side by side in one run. The first call of a size is warm-up (PoCL compiles per launch shape).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@State(Scope.Benchmark)
public class DeviceMatmulBenchmark {

    @Param({"cpu:0", "opencl:0"})
    public String device;

    @Param({"256", "512", "1024", "2048"})
    public int n;

    Device dev;
    DeviceBuffer a;
    DeviceBuffer b;
    DeviceBuffer c;
    OpCall call;

    @Setup(Level.Trial)
    public void setup() {
        dev = Devices.open(device).device();
        a = dev.allocFloat((long) n * n);
        b = dev.allocFloat((long) n * n);
        c = dev.allocFloat((long) n * n);
        dev.upload(MatmulBenchmark.random(n * n, 1), a);
        dev.upload(MatmulBenchmark.random(n * n, 2), b);
        call = MatmulOps.matmul(new Gemm(n, n, n, false, false), a, b, null, Activation.IDENTITY, c, null);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dev.close();
    }

    @Benchmark
    public void deviceNN() {
        dev.run(call);
        dev.synchronize();
    }
}
