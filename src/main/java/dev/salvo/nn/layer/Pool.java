package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.nn.Layer;

/**
 * What the pooling layers share: the windowed layers' shape rule, description, JSON fields and
 * binding ({@link Windowed}), and a pass of two calls.
 */
final class Pool {

    private Pool() {
    }

    /**
     * A pooling layer over {@code kernel x kernel} windows ({@link MaxPool}, {@link AvgPool}): all but
     * its type name and its ops. Its ops take the ints {@code batch, c, h, w, kernel, stride, pad,
     * oh, ow} and the buffers {@code x, y[, idx]} forward and {@code dy[, idx], dx} backward.
     */
    interface Windowed extends Layer {
        int kernel();

        int stride();

        int pad();

        @Override
        default int[] outputShape(int[][] in) {
            int[] s = in[0];
            int kernel = kernel();
            int stride = stride();
            int pad = pad();
            Rows.requireImage(s, type());
            if (s[1] + 2 * pad < kernel || s[2] + 2 * pad < kernel) {
                throw new IllegalArgumentException("its " + kernel + "x" + kernel + " window is larger than the input "
                        + (s[1] + 2 * pad) + "x" + (s[2] + 2 * pad));
            }
            return new int[] {s[0], (s[1] + 2 * pad - kernel) / stride + 1, (s[2] + 2 * pad - kernel) / stride + 1};
        }

        @Override
        default String describe() {
            return type() + "(" + kernel() + (stride() == kernel() ? "" : ",s" + stride()) + (pad() == 0 ? "" : ",p" + pad())
                    + ")";
        }

        @Override
        default void toJson(ObjectNode n) {
            n.put("kernel", kernel());
            n.put("stride", stride());
            n.put("padding", pad());
        }
    }

    /** Kernel and stride at least 1, padding between 0 and half the kernel (as PyTorch requires). */
    static void check(int kernel, int stride, int pad, String layer) {
        Rows.positive(kernel, layer + " kernel");
        Rows.positive(stride, layer + " stride");
        if (pad < 0 || pad > kernel / 2) {
            throw new IllegalArgumentException(layer + " padding must be between 0 and half the kernel, got " + pad);
        }
    }

    /**
     * The runtime of windowed layer {@code l}: {@code forward} and {@code backward} (when an input
     * gradient is needed) over the pass's rows, with the row slices of {@code idx} (an int per
     * output and row, kept from forward for backward; null when the ops take none).
     */
    static Layer.Runtime bind(Layer.Binding b, Windowed l, Op forward, Op backward, Tensor idx) {
        Device d = b.device();
        int[] in = b.inShape(0);
        int[] o = b.outShape();
        return rows -> {
            int[] geo = {rows, in[0], in[1], in[2], l.kernel(), l.stride(), l.pad(), o[1], o[2]};
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            DeviceBuffer ix = Rows.of(idx, rows);
            OpCall fwd = forward.call(ix == null ? new DeviceBuffer[] {x, y} : new DeviceBuffer[] {x, y, ix}, geo);
            if (b.dx(0) == null) {
                return pass(d, fwd, null);
            }
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer dx = Rows.of(b.dx(0), rows);
            return pass(d, fwd, backward.call(ix == null ? new DeviceBuffer[] {dy, dx} : new DeviceBuffer[] {dy, ix, dx}, geo));
        };
    }

    /** Runs {@code fwd} forward and {@code bwd} (null: no input gradient needed) backward. */
    static Layer.Pass pass(Device d, OpCall fwd, OpCall bwd) {
        return new Layer.Pass() {
            @Override
            public void forward() {
                d.run(fwd);
            }

            @Override
            public void backward() {
                if (bwd != null) {
                    d.run(bwd);
                }
            }
        };
    }
}
