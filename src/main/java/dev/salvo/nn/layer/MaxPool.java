package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.PoolOps;
import dev.salvo.nn.Layer;

/**
 * Max pooling over {@code kernel x kernel} windows (padding counts as -inf), NCHW: {@code y (N,C,OH,OW)}
 * with the argmax of each window kept (an int per output) for backward, which sends each
 * {@code dy} to the element that won. NaN wins, as in PyTorch.
 */
public record MaxPool(int kernel, int stride, int pad) implements Layer {

    public MaxPool {
        Pool.check(kernel, stride, pad, "maxpool");
    }

    @Override
    public String type() {
        return "maxpool";
    }

    @Override
    public int[] outputShape(int[][] in) {
        return Pool.outputShape(in[0], kernel, stride, pad, "maxpool");
    }

    @Override
    public String describe() {
        return "maxpool(" + Pool.text(kernel, stride, pad) + ")";
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
        DeviceBuffer idxAll = b.ints((long) b.capacity() * outSize);
        return rows -> {
            int[] geo = {rows, in[0], in[1], in[2], kernel, stride, pad, o[1], o[2]};
            DeviceBuffer idx = Rows.of(idxAll, rows, outSize);
            OpCall fwd = PoolOps.MAXPOOL_FORWARD.call(new DeviceBuffer[] {Rows.of(b.x(0), rows, inSize),
                    Rows.of(b.y(), rows, outSize), idx}, geo);
            OpCall bwd = b.dx(0) == null ? null : PoolOps.MAXPOOL_BACKWARD.call(new DeviceBuffer[] {Rows.of(b.dy(), rows, outSize),
                    idx, Rows.of(b.dx(0), rows, inSize)}, geo);
            return Pool.pass(d, fwd, bwd);
        };
    }
}
