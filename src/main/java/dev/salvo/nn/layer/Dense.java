package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Tensor;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.nn.Layer;

/**
 * Fully connected layer {@code y = act(x W^T + b)}: {@code x (N,IN)}, {@code W (OUT,IN)} (PyTorch's
 * {@code nn.Linear} layout), {@code b (OUT)}, {@code y (N,OUT)}; the activation is fused into the
 * matrix product's epilogue and its pre-activation {@code z} kept for backward.
 *
 * <p>Backward: {@code dz = dy * act'(z)} (in place on dy), {@code dW = dz^T x}, {@code db = sum of dz
 * rows}, {@code dx = dz W}.
 */
public record Dense(int units, Activation activation, boolean bias) implements Layer {

    public Dense {
        if (units < 1) {
            throw new IllegalArgumentException("a dense layer needs at least 1 unit, got " + units);
        }
        if (activation == null) {
            throw new IllegalArgumentException("a dense layer needs an activation (identity for none)");
        }
    }

    @Override
    public String type() {
        return "dense";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 1) {
            throw new IllegalArgumentException("dense expects features (F); put flatten (or global average pooling) before it");
        }
        return new int[] {units};
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        d.param("weight", new int[] {units, in[0][0]}, new ParamInit.Weights(in[0][0], units, activation));
        if (bias) {
            d.param("bias", new int[] {units}, new ParamInit.Constant(0));
        }
    }

    @Override
    public String describe() {
        return "dense(" + units + (activation == Activation.IDENTITY ? "" : "," + activation.cliName()) + (bias ? "" : ",no-bias") + ")";
    }

    @Override
    public String compact() {
        return units + (activation == Activation.IDENTITY ? "" : "(" + activation.cliName() + ")");
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("units", units);
        n.put("activation", activation.cliName());
        if (!bias) {
            n.put("bias", false);
        }
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        Tensor wt = b.param("weight"); // (units, in)
        Tensor gwt = b.grad("weight");
        DeviceBuffer bb = bias ? b.param("bias").data() : null;
        DeviceBuffer gb = bias ? b.grad("bias").data() : null;
        Tensor zAll = activation == Activation.IDENTITY ? b.y() : b.floats(b.y().dims());
        return rows -> {
            Tensor xr = b.x(0).rows(rows);
            Tensor dyr = b.dy().rows(rows);
            Tensor zr = zAll.rows(rows);
            Tensor dxr = b.dx(0) == null ? null : b.dx(0).rows(rows);
            DeviceBuffer z = zr.data();
            DeviceBuffer dy = dyr.data();
            boolean act = activation != Activation.IDENTITY;
            // z (N,units) = x (N,in) w^T; dW (units,in) = dy^T x; dx (N,in) = dy w
            OpCall fwd = MatmulOps.matmul(xr, wt.transpose(0, 1), bb, activation, zr, act ? b.y().rows(rows) : null);
            OpCall wGrad = MatmulOps.matmul(dyr.transpose(0, 1), xr, null, Activation.IDENTITY, gwt, null);
            OpCall xGrad = dxr == null ? null : MatmulOps.matmul(dyr, wt, null, Activation.IDENTITY, dxr, null);
            OpCall actGrad = act ? ElementwiseOps.activationBackward(activation, z, dy, dy) : null;
            OpCall biasGrad = bias ? ReduceOps.columnSums(rows, units, dy, gb) : null;
            return new Pass() {
                @Override
                public void forward() {
                    d.run(fwd);
                }

                @Override
                public void backward() {
                    if (actGrad != null) {
                        d.run(actGrad);
                    }
                    d.run(wGrad);
                    if (biasGrad != null) {
                        d.run(biasGrad);
                    }
                    if (xGrad != null) {
                        d.run(xGrad);
                    }
                }
            };
        };
    }
}
