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
import java.util.List;

/**
 * Fully connected layer {@code y = act(x W^T + b)} over the last axis: {@code x (N,...,IN)},
 * {@code W (OUT,IN)} (PyTorch's {@code nn.Linear} layout), {@code b (OUT)}, {@code y (N,...,OUT)}
 * (the leading axes, e.g. a sequence's positions, are rows of one matrix product); the activation
 * is fused into the matrix product's epilogue and its pre-activation {@code z} kept for backward.
 *
 * <p>Backward: {@code dz = dy * act'(z)} (in place on dy), {@code dW = dz^T x}, {@code db = sum of dz
 * rows}, {@code dx = dz W}.
 *
 * <p>{@code initStd > 0} draws W from a normal with that standard deviation (GPT-2's 0.02) instead
 * of the network's He/Xavier rule. {@code tie} names an earlier layer's parameter of shape
 * {@code (OUT,IN)} used as W (a language model's output projection on the token embedding): no
 * weight of its own; its backward overwrites that parameter's gradient, the owner adds its share.
 */
public record Dense(int units, Activation activation, boolean bias, double initStd, String tie) implements Layer {

    public Dense {
        if (units < 1) {
            throw new IllegalArgumentException("a dense layer needs at least 1 unit, got " + units);
        }
        if (activation == null) {
            throw new IllegalArgumentException("a dense layer needs an activation (identity for none)");
        }
        if (!(initStd >= 0) || !Double.isFinite(initStd)) {
            throw new IllegalArgumentException("a dense layer's init_std must be a finite number >= 0, got " + initStd);
        }
    }

    public Dense(int units, Activation activation, boolean bias) {
        this(units, activation, bias, 0, null);
    }

    @Override
    public String type() {
        return "dense";
    }

    @Override
    public List<String> ties() {
        return tie == null ? List.of() : List.of(tie);
    }

    @Override
    public int[] tiedShape(String name, int[][] in) {
        return new int[] {units, in[0][in[0].length - 1]};
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length > 2) {
            throw new IllegalArgumentException("dense expects features (F) or a sequence (T,F); put flatten (or global average "
                    + "pooling) before it");
        }
        int[] s = in[0].clone();
        s[s.length - 1] = units;
        return s;
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        int fanIn = in[0][in[0].length - 1];
        if (tie == null) {
            d.param("weight", new int[] {units, fanIn}, initStd > 0 ? new ParamInit.Normal(initStd)
                    : new ParamInit.Weights(fanIn, units, activation));
        }
        if (bias) {
            d.param("bias", new int[] {units}, new ParamInit.Constant(0));
        }
    }

    @Override
    public String describe() {
        return "dense(" + units + (activation == Activation.IDENTITY ? "" : "," + activation.cliName()) + (bias ? "" : ",no-bias")
                + (tie == null ? "" : ",tied to " + tie) + ")";
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
        if (initStd > 0) {
            n.put("init_std", initStd);
        }
        if (tie != null) {
            n.put("tie", tie);
        }
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        Tensor wt = tie == null ? b.param("weight") : b.sharedParam(tie); // (units, in)
        Tensor gwt = tie == null ? b.grad("weight") : b.sharedGrad(tie);
        DeviceBuffer bb = bias ? b.param("bias").data() : null;
        DeviceBuffer gb = bias ? b.grad("bias").data() : null;
        Tensor zAll = activation == Activation.IDENTITY ? b.y() : b.floats(b.y().dims());
        int in = wt.dim(1);
        return rows -> {
            // the leading axes (rows, positions...) as the rows of one product
            Tensor xr = b.x(0).rows(rows).reshape(-1, in);
            Tensor dyr = b.dy().rows(rows).reshape(-1, units);
            Tensor zr = zAll.rows(rows).reshape(-1, units);
            Tensor dxr = b.dx(0) == null ? null : b.dx(0).rows(rows).reshape(-1, in);
            int m = xr.dim(0);
            DeviceBuffer z = zr.data();
            DeviceBuffer dy = dyr.data();
            boolean act = activation != Activation.IDENTITY;
            // z (M,units) = x (M,in) w^T; dW (units,in) = dy^T x; dx (M,in) = dy w
            OpCall fwd = MatmulOps.matmul(xr, wt.transpose(0, 1), bb, activation, zr, act ? b.y().rows(rows).reshape(-1, units) : null);
            OpCall wGrad = MatmulOps.matmul(dyr.transpose(0, 1), xr, null, Activation.IDENTITY, gwt, null);
            OpCall xGrad = dxr == null ? null : MatmulOps.matmul(dyr, wt, null, Activation.IDENTITY, dxr, null);
            OpCall actGrad = act ? ElementwiseOps.activationBackward(activation, z, dy, dy) : null;
            OpCall biasGrad = bias ? ReduceOps.columnSums(m, units, dy, gb) : null;
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
