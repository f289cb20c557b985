package dev.salvo.kernel;

import dev.salvo.device.Activation;
import dev.salvo.device.AdamStep;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.SgdStep;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.device.ops.MatmulOps;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Times device ops with operands resident on the device: a warm-up call (PoCL compiles a launch
 * shape on first use), then {@code samples} samples, each the mean over back-to-back calls lasting
 * at least {@code minMs}, closed by a synchronize. Rates are per second: GFLOP/s for matmul
 * ({@code 2MNK}), GB/s for the memory-bound ops (the bytes the op must read and write at least,
 * counted in {@link MemoryOp}). Used by {@code salvo tune} and the OpenCL benchmarks.
 */
public final class KernelBench {

    /** A rate: median, min and max over the samples. */
    public record Rate(double median, double min, double max) {
        public String cell() {
            return String.format(Locale.ROOT, "%.1f [%.1f-%.1f]", median, min, max);
        }
    }

    /** The memory-bound ops, with the bytes each must move for {@code n} elements. */
    public enum MemoryOp {
        /** copy_f: read n, write n. The reference: the device's copy bandwidth. */
        COPY("copy", 8),
        /** act_forward (ReLU, the recipe's activation): read x, write y. */
        ACT_FORWARD("activation forward (relu)", 8),
        /** act_forward (GELU, tanh approximation): read x, write y. */
        GELU_FORWARD("activation forward (gelu)", 8),
        /** act_backward (ReLU): read z and dy, write dz. */
        ACT_BACKWARD("activation backward (relu)", 12),
        /** adam_update (AdamW): read w, g, m, v; write w, m, v. */
        ADAM("adamw update", 28),
        /** sgd_update with momentum: read w, g, v; write w, v. */
        SGD("sgd momentum update", 20),
        /** softmax cross-entropy over rows of 10 classes: read logits, labels; write dlogits, row loss (per element: 8 + 0.8). */
        SOFTMAX_XENT("softmax cross-entropy (C=10)", 8.8),
        /** column sums of an (n/512, 512) matrix: read it, write 512. */
        COLUMN_SUMS("column sums (C=512)", 4),
        /** sum of n elements. */
        SUM("sum", 4);

        public final String label;
        public final double bytesPerElement;

        MemoryOp(String label, double bytesPerElement) {
            this.label = label;
            this.bytesPerElement = bytesPerElement;
        }
    }

    private KernelBench() {
    }

    /** GFLOP/s of {@code g} on {@code d} (random operands, no bias). */
    public static Rate matmul(Device d, Gemm g, int samples, double minMs) {
        SplittableRandom rnd = new SplittableRandom(42);
        try (DeviceBuffer a = d.allocFloat(Math.max(1, g.aLength())); DeviceBuffer b = d.allocFloat(Math.max(1, g.bLength()));
             DeviceBuffer c = d.allocFloat(Math.max(1, g.cLength()))) {
            d.upload(random(rnd, Math.max(1, g.aLength())), a);
            d.upload(random(rnd, Math.max(1, g.bLength())), b);
            DeviceBuffer as = a.slice(0, g.aLength());
            DeviceBuffer bs = b.slice(0, g.bLength());
            DeviceBuffer cs = c.slice(0, g.cLength());
            OpCall call = MatmulOps.matmul(g, as, bs, null, Activation.IDENTITY, cs, null);
            return time(() -> d.run(call), d, g.flops() / 1e9, samples, minMs);
        }
    }

    /** GB/s of {@code op} over {@code n} elements on {@code d}. */
    public static Rate memory(Device d, MemoryOp op, int n, int samples, double minMs) {
        SplittableRandom rnd = new SplittableRandom(7);
        List<DeviceBuffer> held = new ArrayList<>();
        try {
            DeviceBuffer x = buffer(d, held, random(rnd, n));
            DeviceBuffer y = buffer(d, held, random(rnd, n));
            DeviceBuffer z = buffer(d, held, random(rnd, n));
            DeviceBuffer v = buffer(d, held, positive(rnd, n));
            DeviceBuffer flag = buffer(d, held, new float[] {0});
            int cols = op == MemoryOp.SOFTMAX_XENT ? 10 : 512;
            int rows = n / cols;
            DeviceBuffer labels = d.allocInt(Math.max(1, rows));
            held.add(labels);
            int[] lab = new int[Math.max(1, rows)];
            for (int i = 0; i < lab.length; i++) {
                lab[i] = rnd.nextInt(10);
            }
            d.upload(lab, labels);
            DeviceBuffer rowOut = d.allocFloat(Math.max(1, Math.max(rows, cols)));
            held.add(rowOut);
            DeviceBuffer one = d.allocFloat(1);
            held.add(one);
            AdamStep adam = new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0.01, true, 10);
            SgdStep sgd = new SgdStep(1e-3, 0.9, false, 0);
            DeviceBuffer xr = x.slice(0, (long) rows * cols);
            DeviceBuffer yr = y.slice(0, (long) rows * cols);
            OpCall declared = switch (op) {
                case ADAM -> OptimizerOps.adam(x, y, z, v, adam, flag);
                case SGD -> OptimizerOps.sgd(x, y, z, sgd, flag);
                case SOFTMAX_XENT -> RowsOps.softmaxCrossEntropy(rows, cols, xr, labels, 1.0 / rows, rowOut.slice(0, rows), yr);
                default -> null;
            };
            Runnable call = switch (op) {
                case COPY -> run(d, ElementwiseOps.copy(x, y));
                case ACT_FORWARD -> run(d, ElementwiseOps.activationForward(Activation.RELU, x, y));
                case GELU_FORWARD -> run(d, ElementwiseOps.activationForward(Activation.GELU, x, y));
                case ACT_BACKWARD -> run(d, ElementwiseOps.activationBackward(Activation.RELU, x, z, y));
                case ADAM, SGD, SOFTMAX_XENT -> () -> d.run(declared);
                case COLUMN_SUMS -> run(d, ReduceOps.columnSums(rows, cols, xr, rowOut.slice(0, cols)));
                case SUM -> run(d, ReduceOps.sum(x, one));
            };
            double elements = op == MemoryOp.SOFTMAX_XENT || op == MemoryOp.COLUMN_SUMS ? (double) rows * cols : n;
            return time(call, d, elements * op.bytesPerElement / 1e9, samples, minMs);
        } finally {
            for (DeviceBuffer b : held) {
                b.close();
            }
        }
    }

    /** Runs a declared op's call, made once. */
    private static Runnable run(Device d, OpCall c) {
        return () -> d.run(c);
    }

    private static DeviceBuffer buffer(Device d, List<DeviceBuffer> held, float[] x) {
        DeviceBuffer b = d.allocFloat(x.length);
        held.add(b);
        d.upload(x, b);
        return b;
    }

    /** Rate of {@code call}, which does {@code units} (GFLOP or GB) per call. */
    public static Rate time(Runnable call, Device d, double units, int samples, double minMs) {
        call.run();
        d.synchronize();
        long t0 = System.nanoTime();
        call.run();
        d.synchronize();
        double one = (System.nanoTime() - t0) / 1e9;
        int reps = (int) Math.max(1, Math.min(100_000, Math.ceil(minMs / 1e3 / Math.max(one, 1e-9))));
        double[] r = new double[samples];
        for (int s = 0; s < samples; s++) {
            t0 = System.nanoTime();
            for (int i = 0; i < reps; i++) {
                call.run();
            }
            d.synchronize();
            r[s] = units * reps / ((System.nanoTime() - t0) / 1e9);
        }
        Arrays.sort(r);
        double med = samples % 2 == 1 ? r[samples / 2] : (r[samples / 2 - 1] + r[samples / 2]) / 2;
        return new Rate(med, r[0], r[samples - 1]);
    }

    private static float[] random(SplittableRandom r, long n) {
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return x;
    }

    private static float[] positive(SplittableRandom r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextDouble() * 0.01);
        }
        return x;
    }
}
