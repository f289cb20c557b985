package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.PoolOps;
import dev.salvo.nn.Layer;

/**
 * Average pooling over {@code kernel x kernel} windows, NCHW, padding counted in the divisor (PyTorch's
 * default {@code count_include_pad=True}); backward spreads {@code dy / k^2} over each window.
 */
public record AvgPool(int kernel, int stride, int pad) implements Layer {

    public AvgPool {
        Pool.check(kernel, stride, pad, "avgpool");
    }

    @Override
    public String type() {
        return "avgpool";
    }

    @Override
    public int[] outputShape(int[][] in) {
        return Pool.outputShape(in[0], kernel, stride, pad, "avgpool");
    }

    @Override
    public String describe() {
        return "avgpool(" + Pool.text(kernel, stride, pad) + ")";
    }

    @Override
    public void toJson(ObjectNode n) {
        Pool.toJson(n, kernel, stride, pad);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] in = b.inShape(0);
        int[] o = b.outShape();
        int inSize = Rows.size(in);
        int outSize = Rows.size(o);
        return rows -> {
            int[] geo = {rows, in[0], in[1], in[2], kernel, stride, pad, o[1], o[2]};
            OpCall fwd = PoolOps.AVGPOOL_FORWARD.call(new DeviceBuffer[] {Rows.of(b.x(0), rows, inSize),
                    Rows.of(b.y(), rows, outSize)}, geo);
            OpCall bwd = b.dx(0) == null ? null : PoolOps.AVGPOOL_BACKWARD.call(new DeviceBuffer[] {Rows.of(b.dy(), rows, outSize),
                    Rows.of(b.dx(0), rows, inSize)}, geo);
            return Pool.pass(d, fwd, bwd);
        };
    }
}
