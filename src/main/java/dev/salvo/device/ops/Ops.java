package dev.salvo.device.ops;

import dev.salvo.device.Op;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every declared op, family by family. A family is one class here (its ops as constants and an
 * {@code ALL} list), one kernel file {@code kernels/<family>.kernel} and one CPU body class.
 */
public final class Ops {

    private Ops() {
    }

    /** Every declared op in a fixed order. */
    public static final List<Op> ALL;

    static {
        List<Op> all = new ArrayList<>();
        all.addAll(TensorOps.ALL);
        all.addAll(ConvOps.ALL);
        all.addAll(PoolOps.ALL);
        all.addAll(NormOps.ALL);
        all.addAll(LayerNormOps.ALL);
        all.addAll(RandomOps.ALL);
        all.addAll(ElementwiseOps.ALL);
        all.addAll(ReduceOps.ALL);
        all.addAll(RowsOps.ALL);
        all.addAll(OptimizerOps.ALL);
        all.addAll(MatmulOps.ALL);
        all.addAll(AttentionOps.ALL);
        ALL = Collections.unmodifiableList(all);
    }

    /** Kernel file name to the entry points it defines, for the declared ops. */
    public static Map<String, List<String>> kernelFamilies() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (Op op : ALL) {
            m.computeIfAbsent(op.family() + ".kernel", k -> new ArrayList<>()).add(op.name());
        }
        return m;
    }

    /** The op named {@code name}, or null. */
    public static Op find(String name) {
        for (Op op : ALL) {
            if (op.name().equals(name)) {
                return op;
            }
        }
        return null;
    }
}
