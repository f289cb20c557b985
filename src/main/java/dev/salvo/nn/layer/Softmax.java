package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.RowsOps;
import dev.salvo.nn.Layer;

/**
 * Row-wise softmax {@code y (N,C) = softmax(x (N,C))}; backward {@code dx = y (dy - sum_j dy_j y_j)}.
 * As the last layer under softmax cross-entropy it is fused into the loss (the loss takes logits).
 */
public record Softmax() implements Layer {

    @Override
    public String type() {
        return "softmax";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 1) {
            throw new IllegalArgumentException("softmax expects features (F)");
        }
        return in[0].clone();
    }

    @Override
    public boolean fusesIntoCrossEntropy() {
        return true;
    }

    @Override
    public String describe() {
        return "softmax";
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int c = b.outShape()[0];
        return rows -> {
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer dx = Rows.of(b.dx(0), rows);
            OpCall fwd = RowsOps.softmaxForward(rows, c, x, y);
            OpCall bwd = dx == null ? null : RowsOps.softmaxBackward(rows, c, y, dy, dx);
            return new Pass() {
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
        };
    }
}
