package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.nn.Layer;

/**
 * An activation on its own, any shape: {@code y = act(x)}; backward {@code dx = dy * act'(x)} (a
 * select for ReLU, as PyTorch's {@code threshold_backward}). JSON type: the activation's name
 * ({@code relu}, {@code tanh}, ...).
 */
public record Act(Activation activation) implements Layer {

    @Override
    public String type() {
        return activation.cliName();
    }

    @Override
    public int[] outputShape(int[][] in) {
        return in[0].clone();
    }

    @Override
    public String describe() {
        return activation.cliName();
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int size = Rows.size(b.outShape());
        return rows -> {
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer dx = Rows.of(b.dx(0), rows);
            OpCall fwd = ElementwiseOps.activationForward(activation, x, y);
            OpCall bwd = dx == null ? null : ElementwiseOps.activationBackward(activation, x, dy, dx);
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
