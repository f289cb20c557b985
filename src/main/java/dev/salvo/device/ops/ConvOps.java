package dev.salvo.device.ops;

import dev.salvo.device.Op;
import java.util.List;

/** Placeholder while the family is written (see TensorOps for the pattern). */
public final class ConvOps {

    private ConvOps() {
    }

    public static final List<Op> ALL = List.of();
}
