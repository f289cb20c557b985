package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.OpCall;
import dev.salvo.nn.Layer;

/** What the pooling layers share: the output shape rule, their JSON fields and a pass of two calls. */
final class Pool {

    private Pool() {
    }

    /** Kernel and stride at least 1, padding between 0 and half the kernel (as PyTorch requires). */
    static void check(int kernel, int stride, int pad, String layer) {
        Rows.positive(kernel, layer + " kernel");
        Rows.positive(stride, layer + " stride");
        if (pad < 0 || pad > kernel / 2) {
            throw new IllegalArgumentException(layer + " padding must be between 0 and half the kernel, got " + pad);
        }
    }

    static int[] outputShape(int[] in, int kernel, int stride, int pad, String layer) {
        Rows.requireImage(in, layer);
        if (in[1] + 2 * pad < kernel || in[2] + 2 * pad < kernel) {
            throw new IllegalArgumentException("its " + kernel + "x" + kernel + " window is larger than the input "
                    + (in[1] + 2 * pad) + "x" + (in[2] + 2 * pad));
        }
        return new int[] {in[0], (in[1] + 2 * pad - kernel) / stride + 1, (in[2] + 2 * pad - kernel) / stride + 1};
    }

    static String text(int kernel, int stride, int pad) {
        return kernel + (stride == kernel ? "" : ",s" + stride) + (pad == 0 ? "" : ",p" + pad);
    }

    static void toJson(ObjectNode n, int kernel, int stride, int pad) {
        n.put("kernel", kernel);
        n.put("stride", stride);
        n.put("padding", pad);
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
