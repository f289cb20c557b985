package dev.salvo.kernel;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The shared kernel families of {@code kernels/} and the kernels each file defines. */
public final class KernelFamilies {

    private KernelFamilies() {
    }

    /** File name to kernel names, in build order. */
    public static final Map<String, List<String>> ALL;

    static {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.putAll(dev.salvo.device.ops.Ops.kernelFamilies()); // the declared ops, family by family
        ALL = java.util.Collections.unmodifiableMap(m);
    }

    /**
     * Families only the CUDA provider builds, and only with tensor cores on ({@code matmul.tf32} in
     * {@code cuda.properties}; compute capability 8.0 or newer): inline PTX {@code mma.sync}.
     */
    public static final Map<String, List<String>> CUDA_TENSOR_CORES = Map.of("matmul_tf32.kernel", List.of("matmul_tf32"));

    /** The tunables every unit is compiled with. */
    public static Map<String, String> defines(TuningTable.Tuning t) {
        return t.defines();
    }

    /**
     * The tunables {@code family} is compiled with: only those its file reads, so changing one
     * kernel's tunables leaves the other programs' cache keys alone.
     */
    public static Map<String, String> defines(String family, TuningTable.Tuning t) {
        Map<String, String> all = t.defines();
        Map<String, String> d = new LinkedHashMap<>();
        all.forEach((k, v) -> {
            boolean mine = switch (family) {
                case "matmul.kernel" -> k.startsWith("MM_") || k.equals("TILE");
                case "reduce.kernel" -> k.equals("SUM_WG") || k.equals("COLSUM_VW");
                case "elementwise.kernel", "rows.kernel" -> k.equals("EW_VW");
                default -> false;
            };
            if (mine) {
                d.put(k, v);
            }
        });
        return d;
    }

    /** The defines of the built-in default tuning with another matmul tile and sum work-group. */
    public static Map<String, String> defines(int tile, int sumWg) {
        return TuningTable.Tuning.DEFAULT.with("matmul.tile", tile).with("sum.wg", sumWg).defines();
    }
}
