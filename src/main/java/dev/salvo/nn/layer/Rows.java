package dev.salvo.nn.layer;

import dev.salvo.device.Tensor;

import dev.salvo.device.DeviceBuffer;

/** Views of the first rows of a batch buffer. */
final class Rows {

    private Rows() {
    }

    /** The memory of the first {@code rows} rows of {@code t} (a batch-first tensor); null stays null. */
    static DeviceBuffer of(Tensor t, int rows) {
        return t == null ? null : t.rows(rows).data();
    }

    /** Per-sample size of a shape. */
    static int size(int[] shape) {
        return dev.salvo.nn.NetworkSpec.size(shape);
    }

    /** Requires a (C,H,W) input. */
    static void requireImage(int[] in, String layer) {
        if (in.length != 3) {
            throw new IllegalArgumentException(layer + " expects an image (C,H,W), got "
                    + (in.length == 1 ? "features (F): it cannot follow flatten or dense" : in.length + " dimensions"));
        }
    }

    static int positive(int v, String what) {
        if (v < 1) {
            throw new IllegalArgumentException(what + " must be at least 1, got " + v);
        }
        return v;
    }
}
