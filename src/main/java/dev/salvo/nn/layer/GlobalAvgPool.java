package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.PoolOps;
import dev.salvo.nn.Layer;

/** Global average pooling {@code (C,H,W) -> (C)}: the mean of each plane; backward {@code dx = dy / (H W)}. */
public record GlobalAvgPool() implements Layer {

    @Override
    public String type() {
        return "global-avgpool";
    }

    @Override
    public int[] outputShape(int[][] in) {
        Rows.requireImage(in[0], "global-avgpool");
        return new int[] {in[0][0]};
    }

    @Override
    public String describe() {
        return "global-avgpool";
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] in = b.inShape(0);
        int c = in[0];
        int s = in[1] * in[2];
        return rows -> {
            int[] geo = {rows, c, s};
            OpCall fwd = PoolOps.GLOBAL_AVGPOOL_FORWARD.call(new DeviceBuffer[] {Rows.of(b.x(0), rows),
                    Rows.of(b.y(), rows)}, geo);
            OpCall bwd = b.dx(0) == null ? null : PoolOps.GLOBAL_AVGPOOL_BACKWARD.call(new DeviceBuffer[] {Rows.of(b.dy(), rows),
                    Rows.of(b.dx(0), rows)}, geo);
            return Pool.pass(d, fwd, bwd);
        };
    }
}
