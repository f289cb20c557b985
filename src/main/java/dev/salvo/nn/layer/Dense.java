package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Gemm;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.MatmulOps;
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
        int in = b.inShape(0)[0];
        DeviceBuffer w = b.param("weight");
        DeviceBuffer gw = b.grad("weight");
        DeviceBuffer bb = bias ? b.param("bias") : null;
        DeviceBuffer gb = bias ? b.grad("bias") : null;
        DeviceBuffer zAll = activation == Activation.IDENTITY ? b.y() : b.floats((long) b.capacity() * units);
        return rows -> {
            DeviceBuffer x = Rows.of(b.x(0), rows, in);
            DeviceBuffer z = Rows.of(zAll, rows, units);
            DeviceBuffer y = Rows.of(b.y(), rows, units);
            DeviceBuffer dy = Rows.of(b.dy(), rows, units);
            DeviceBuffer dx = Rows.of(b.dx(0), rows, in);
            boolean act = activation != Activation.IDENTITY;
            OpCall fwd = MatmulOps.matmul(new Gemm(rows, units, in, false, true), x, w, bb, activation, z, act ? y : null);
            OpCall wGrad = MatmulOps.matmul(new Gemm(units, in, rows, true, false), dy, x, null, Activation.IDENTITY, gw, null);
            OpCall xGrad = dx == null ? null
                    : MatmulOps.matmul(new Gemm(rows, in, units, false, false), dy, w, null, Activation.IDENTITY, dx, null);
            return new Pass() {
                @Override
                public void forward() {
                    d.run(fwd);
                }

                @Override
                public void backward() {
                    if (act) {
                        d.activationBackward(activation, z, dy, dy);
                    }
                    d.run(wGrad);
                    if (bias) {
                        d.columnSums(rows, units, dy, gb);
                    }
                    if (xGrad != null) {
                        d.run(xGrad);
                    }
                }
            };
        };
    }
}
