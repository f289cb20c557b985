package dev.salvo.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.Dataset;
import dev.salvo.data.Synthetic;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.cpu.CpuProvider;
import dev.salvo.device.cpu.CpuSettings;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real child JVM trains with a checkpoint after every step (several MB each); it is killed
 * (SIGKILL) at random moments, many times. After every kill the checkpoint on disk must load and
 * hold a complete state, and a later checkpoint never goes back in steps.
 */
class CheckpointKillTest {

    /** The child: trains forever, checkpointing every step into args[0]. */
    public static final class Child {
        public static void main(String[] args) {
            Path dir = Path.of(args[0]);
            NetworkSpec net = NetworkSpec.input(256).dense(1024, Activation.RELU).dense(10).build();
            Dataset data = Synthetic.clusters("kill", 4096, 256, 10, 1);
            TrainConfig cfg = TrainConfig.defaults().withBatchSize(32).withEpochs(1_000_000).withOptimizer(Optimizer.adamW(0.01));
            try (Device d = CpuProvider.open(CpuSettings.load().withThreads(1)); Model m = new Model(d, net, 1, 32);
                 Trainer t = new Trainer(m, cfg)) {
                if (Files.exists(dir.resolve(Checkpoint.FILE))) {
                    t.resume(Checkpoint.load(dir));
                }
                System.out.println("started");
                System.out.flush();
                t.fit(data, null, TrainListener.NONE, new Checkpoint.Policy(dir, 1, false));
            }
        }
    }

    @Test
    void killedDuringSavesLeavesALoadableCheckpoint(@TempDir Path dir) throws Exception {
        String cp = dev.salvo.Check.childClassPath(Child.class, Trainer.class, com.fasterxml.jackson.databind.ObjectMapper.class,
                com.fasterxml.jackson.core.JsonFactory.class, com.fasterxml.jackson.annotation.JsonProperty.class);
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        java.util.Random rnd = new java.util.Random(42);
        long lastStep = -1;
        int kills = 0;
        int advanced = 0;
        long windowMs = 400;
        // 25 kills, or fewer once 60 s have passed, but never fewer than 10: on a loaded machine every
        // child JVM starts slowly, and a fixed time budget alone ended the test after 9 kills
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (kills < 25 && (kills < 10 || System.nanoTime() < deadline)) {
            Process p = new ProcessBuilder(javaBin, "-Xmx1g", "-cp", cp, Child.class.getName(),
                    dir.toString()).redirectErrorStream(true).start();
            // wait until it runs, then let it save for a random while and kill it hard
            byte[] first = p.getInputStream().readNBytes(8);
            if (!new String(first).startsWith("started")) {
                p.waitFor(30, TimeUnit.SECONDS);
                throw new AssertionError("child did not start: " + new String(first) + new String(p.getInputStream().readAllBytes()));
            }
            if (kills == 0) {
                // the first run: wait for the first checkpoint, and size the kill window from how long
                // it took (a loaded machine is slow), so later kills land among saves, not before them
                long t0 = System.nanoTime();
                while (!Files.exists(dir.resolve(Checkpoint.FILE)) && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60)) {
                    Thread.sleep(5);
                }
                windowMs = Math.max(windowMs, 3 * TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
            }
            Thread.sleep(50 + rnd.nextInt((int) windowMs));
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            kills++;
            assertTrue(Files.exists(dir.resolve(Checkpoint.FILE)), "no checkpoint after kill " + kills);
            Checkpoint.Snapshot s = Checkpoint.load(dir); // throws if torn
            assertTrue(s.step() >= lastStep, "step went back from " + lastStep + " to " + s.step());
            assertTrue(s.parameters().length > 0 && s.optimizerState().size() == 2);
            advanced += s.step() > lastStep ? 1 : 0;
            lastStep = s.step();
        }
        // the kills must land while the child is saving, not before its first save
        assertTrue(advanced >= kills / 2, "the checkpoint advanced in only " + advanced + " of " + kills + " runs");
        try (var files = Files.list(dir)) {
            List<Path> left = new ArrayList<>(files.toList());
            assertTrue(left.contains(dir.resolve(Checkpoint.FILE)), left.toString());
        }
    }
}
