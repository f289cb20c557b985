package dev.salvo.bench;

import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.kernel.KernelBench;
import dev.salvo.kernel.KernelDevice;
import java.util.Locale;

/**
 * Memory bandwidth of Salvo's memory-bound kernels on one device, against the device's copy kernel
 * measured in the same run: for each op, GB/s = the bytes it must read and write / time
 * ({@link KernelBench.MemoryOp}), and its share of the copy kernel's GB/s.
 * Usage: {@code OpenClBandwidth [--device opencl:0] [--n 4194304] [--samples 7] [--min-ms 100]}.
 */
public final class OpenClBandwidth {

    private OpenClBandwidth() {
    }

    public static void main(String[] args) {
        String device = "opencl:0";
        int n = 1 << 22;
        int samples = 7;
        double minMs = 100;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device" -> device = args[++i];
                case "--n" -> n = Integer.parseInt(args[++i]);
                case "--samples" -> samples = Integer.parseInt(args[++i]);
                case "--min-ms" -> minMs = Double.parseDouble(args[++i]);
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (expected --device, --n, --samples, --min-ms)");
            }
        }
        try (Device d = Devices.open(device).device()) {
            String row = d instanceof KernelDevice k ? k.tuningInUse().row() : "-";
            System.out.println("device " + device + " (" + d.info().name() + "), n = " + n + " elements ("
                    + (4L * n >> 20) + " MiB per array), tuning row: " + row);
            KernelBench.Rate copy = null;
            System.out.println();
            System.out.println("| kernel | bytes/element | GB/s | share of copy |");
            System.out.println("|---|---|---|---|");
            for (KernelBench.MemoryOp op : KernelBench.MemoryOp.values()) {
                KernelBench.Rate r = KernelBench.memory(d, op, n, samples, minMs);
                if (op == KernelBench.MemoryOp.COPY) {
                    copy = r;
                }
                System.out.printf(Locale.ROOT, "| %s | %.1f | %s | %.0f%% |%n", op.label, op.bytesPerElement, r.cell(),
                        100 * r.median() / copy.median());
            }
        }
        System.exit(0);
    }
}
