package dev.salvo.bench;

import dev.salvo.data.Dataset;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.Trainer;
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
 * One training step on the CPU provider, through {@link Trainer#runSteps} (the code path of
 * {@code Trainer.fit}: batch in, forward, loss, backward, health check, AdamW update, loss read
 * back every step). Shapes: the Fashion-MNIST recipe ({@code 784-512-256-10}, batch 128) and the
 * digits default ({@code 64-128-64-10}, batch 32, where per-step overhead shows), with the data
 * resident on the device or staged from the host.
 *
 * <p>Run with JMH's GC profiler to see the allocation per step ({@code gc.alloc.rate.norm},
 * bytes/op): the {@code jmh} Maven profile passes only the include pattern, so run JMH directly:
 * <pre>
 * mvn -q -DskipTests test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt -Dmdep.includeScope=test
 * java --add-modules=jdk.incubator.vector -cp target/test-classes:target/classes:$(cat target/cp.txt) \
 *     org.openjdk.jmh.Main TrainStepBenchmark -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@State(Scope.Benchmark)
public class TrainStepBenchmark {

    @Param({"fashion", "digits"})
    public String shape;

    @Param({"ON", "OFF"})
    public String resident;

    Device dev;
    Model model;
    Trainer trainer;
    Dataset data;

    @Setup(Level.Trial)
    public void setup() {
        boolean fashion = shape.equals("fashion");
        NetworkSpec spec = fashion
                ? NetworkSpec.input(784).dense(512, Activation.RELU).dense(256, Activation.RELU).dense(10).build()
                : NetworkSpec.input(64).dense(128, Activation.RELU).dense(64, Activation.RELU).dense(10).build();
        int batch = fashion ? 128 : 32;
        data = Synthetic.clusters("bench", 64 * batch, spec.inputs(), 10, 1);
        TrainConfig cfg = TrainConfig.defaults().withOptimizer(Optimizer.adamW(0.01)).withLearningRate(1e-4)
                .withSchedule(new Schedule.Constant(0)).withBatchSize(batch)
                .withResidentData(TrainConfig.ResidentData.valueOf(resident));
        dev = CpuProvider.open(CpuSettings.load());
        model = new Model(dev, spec, 1, batch);
        trainer = new Trainer(model, cfg);
        trainer.runSteps(data, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        trainer.close();
        model.close();
        dev.close();
    }

    @Benchmark
    public void step() {
        trainer.runSteps(data, 1);
    }
}
