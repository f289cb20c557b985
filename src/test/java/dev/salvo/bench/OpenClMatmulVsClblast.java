package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Devices;
import dev.salvo.device.Gemm;
import dev.salvo.kernel.KernelDevice;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.MatmulOps;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Salvo's OpenCL matmul against CLBlast's sgemm on the same OpenCL device, in one invocation:
 * builds {@code src/test/c/clblast_sgemm.c} with gcc into {@code target/c/} (when missing or older
 * than the source), runs it on the cases, then times Salvo's {@code matmul} op on the same cases
 * (operands resident, after a warm-up call, which is when PoCL compiles the launch shape) and prints
 * GFLOP/s medians [min-max] and the ratio Salvo / CLBlast.
 *
 * <p>Cases: square n in {256, 512, 1024} for the three shapes of a training step: NN (dZ W), NT
 * (X W^T, the forward pass) and TN (dZ^T X); then the layers of the Fashion-MNIST recipe
 * (784-512-256-10, batch 128). A sample is the mean over back-to-back calls lasting at least
 * {@code --min-ms} (100); {@code --samples} (7) samples per case.
 *
 * <p>Usage: {@code OpenClMatmulVsClblast [--device opencl:0] [--samples 7] [--min-ms 100] [--quick]
 * [--no-clblast] [CASE ...]} with CASE {@code SHAPE:M:N:K}. The Maven profile {@code bench-opencl}
 * runs it: {@code mvn -Pbench-opencl -DskipTests verify}.
 */
public final class OpenClMatmulVsClblast {

    /** One timed case: GFLOP/s median, min, max. */
    public record Result(double median, double min, double max) {
        String cell() {
            return String.format(Locale.ROOT, "%.1f [%.1f-%.1f]", median, min, max);
        }
    }

    private OpenClMatmulVsClblast() {
    }

    public static void main(String[] args) throws Exception {
        String device = "opencl:0";
        int samples = 7;
        double minMs = 100;
        boolean clblast = true;
        boolean quick = false;
        List<String> cases = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--min-ms" -> minMs = Double.parseDouble(args[++i]);
                case "--no-clblast" -> clblast = false;
                case "--quick" -> quick = true;
                default -> {
                    if (args[i].startsWith("--")) {
                        throw new IllegalArgumentException("unknown option " + args[i]
                                + " (expected --device, --samples, --min-ms, --no-clblast, --quick)");
                    }
                    cases.add(args[i]);
                }
            }
        }
        if (cases.isEmpty()) {
            int[] sizes = quick ? new int[] {256, 1024} : new int[] {256, 512, 1024};
            for (String s : new String[] {"NN", "NT", "TN"}) {
                for (int n : sizes) {
                    cases.add(s + ":" + n + ":" + n + ":" + n);
                }
            }
            // the Fashion-MNIST recipe's first layer, batch 128: forward X W^T, input grad dZ W, weight grad dZ^T X
            cases.add("NT:128:512:784");
            cases.add("NN:128:784:512");
            cases.add("TN:512:784:128");
            cases.add("NT:128:256:512");
        }
        Map<String, Result> ref = new LinkedHashMap<>();
        String refDevice = "";
        if (clblast) {
            Path exe = buildHarness();
            List<String> cmd = new ArrayList<>(List.of(exe.toString(), "--samples", Integer.toString(samples), "--min-ms",
                    Double.toString(minMs)));
            cmd.addAll(cases);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    System.out.println("  " + line);
                    String[] f = line.trim().split("\\s+");
                    if (f[0].equals("clblast") && f.length == 8) {
                        ref.put(f[1] + ":" + f[2] + ":" + f[3] + ":" + f[4], new Result(Double.parseDouble(f[5]),
                                Double.parseDouble(f[6]), Double.parseDouble(f[7])));
                    } else if (line.startsWith("# device ")) {
                        refDevice = line.substring("# device ".length());
                    }
                }
            }
            if (p.waitFor() != 0) {
                throw new IllegalStateException("clblast_sgemm exited with " + p.exitValue());
            }
        }
        Map<String, Result> salvo = new LinkedHashMap<>();
        String salvoDevice;
        String row = "";
        try (Device d = Devices.open(device).device()) {
            salvoDevice = d.info().name();
            if (d instanceof KernelDevice k) {
                row = k.tuningInUse().row();
            }
            for (String c : cases) {
                Result r = time(d, parse(c), samples, minMs);
                salvo.put(c, r);
                System.out.println("  salvo " + c + " " + r.cell());
            }
        }
        System.out.println();
        System.out.println("Salvo " + device + " (" + salvoDevice + "), tuning row: " + row);
        if (clblast) {
            System.out.println("CLBlast sgemm on " + refDevice + " (same process tree, run just before)");
        }
        System.out.println();
        System.out.println("| shape | M x N x K | Salvo GFLOP/s | CLBlast GFLOP/s | Salvo / CLBlast |");
        System.out.println("|---|---|---|---|---|");
        for (String c : cases) {
            String[] f = c.split(":");
            Result s = salvo.get(c);
            Result b = ref.get(c);
            System.out.printf(Locale.ROOT, "| %s | %s x %s x %s | %s | %s | %s |%n", f[0], f[1], f[2], f[3], s.cell(),
                    b == null ? "-" : b.cell(), b == null ? "-" : String.format(Locale.ROOT, "%.2fx", s.median() / b.median()));
        }
        System.exit(0);
    }

    static Gemm parse(String c) {
        String[] f = c.split(":");
        if (f.length != 4 || !(f[0].equals("NN") || f[0].equals("NT") || f[0].equals("TN"))) {
            throw new IllegalArgumentException("case '" + c + "' must be SHAPE:M:N:K with SHAPE NN, NT or TN");
        }
        return new Gemm(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(f[3]), f[0].charAt(0) == 'T',
                f[0].charAt(1) == 'T');
    }

    /** GFLOP/s of {@code g} on {@code d}: a warm-up call, then samples of back-to-back calls. */
    public static Result time(Device d, Gemm g, int samples, double minMs) {
        SplittableRandom rnd = new SplittableRandom(42);
        try (DeviceBuffer a = d.allocFloat(g.aLength()); DeviceBuffer b = d.allocFloat(g.bLength());
             DeviceBuffer c = d.allocFloat(g.cLength())) {
            d.upload(random(rnd, g.aLength()), a);
            d.upload(random(rnd, g.bLength()), b);
            OpCall call = MatmulOps.matmul(g, a, b, null, Activation.IDENTITY, c, null);
            d.run(call);
            d.synchronize();
            long t0 = System.nanoTime();
            d.run(call);
            d.synchronize();
            double one = (System.nanoTime() - t0) / 1e9;
            int reps = (int) Math.max(1, Math.ceil(minMs / 1e3 / Math.max(one, 1e-9)));
            double[] gf = new double[samples];
            for (int s = 0; s < samples; s++) {
                t0 = System.nanoTime();
                for (int r = 0; r < reps; r++) {
                    d.run(call);
                }
                d.synchronize();
                gf[s] = g.flops() * reps / ((System.nanoTime() - t0) / 1e9) / 1e9;
            }
            Arrays.sort(gf);
            double med = samples % 2 == 1 ? gf[samples / 2] : (gf[samples / 2 - 1] + gf[samples / 2]) / 2;
            return new Result(med, gf[0], gf[samples - 1]);
        }
    }

    private static float[] random(SplittableRandom r, long n) {
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Compiles the C harness into target/c when it is missing or older than its source. */
    static Path buildHarness() throws IOException, InterruptedException {
        Path src = Path.of("src/test/c/clblast_sgemm.c");
        if (!Files.isRegularFile(src)) {
            throw new IllegalStateException("run from the repository root: " + src.toAbsolutePath() + " not found");
        }
        Path exe = Path.of("target/c/clblast_sgemm");
        if (Files.isExecutable(exe) && Files.getLastModifiedTime(exe).compareTo(Files.getLastModifiedTime(src)) > 0) {
            return exe;
        }
        Files.createDirectories(exe.getParent());
        List<String> cmd = List.of("gcc", "-O2", "-Wall", "-o", exe.toString(), src.toString(), "-lclblast", "-lOpenCL", "-lm");
        Process p = new ProcessBuilder(cmd).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed (exit " + p.exitValue()
                    + "); it needs gcc and Debian's libclblast-dev and ocl-icd-opencl-dev");
        }
        return exe;
    }
}
