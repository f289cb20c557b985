package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.ops.LayerNormOps;
import dev.salvo.nn.Layer;

/**
 * Layer normalization over the last axis, PyTorch's {@code nn.LayerNorm(C)}: for each vector
 * {@code y = (x - mean) / sqrt(var + eps) * weight + bias} with the biased variance; parameters
 * {@code weight (C)} (1) and {@code bias (C)} (0). Input {@code (C)} or {@code (T, C)}. The mean and
 * {@code 1/sqrt(var + eps)} of every vector are kept for backward.
 */
public record LayerNorm(double eps) implements Layer {

    public LayerNorm {
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("layernorm eps must be a positive number, got " + eps);
        }
    }

    public LayerNorm() {
        this(1e-5);
    }

    @Override
    public String type() {
        return "layernorm";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 1 && in[0].length != 2) {
            throw new IllegalArgumentException("layernorm expects features (C) or a sequence (T,C)");
        }
        return in[0].clone();
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        int c = in[0][in[0].length - 1];
        d.param("weight", new int[] {c}, new ParamInit.Constant(1));
        d.param("bias", new int[] {c}, new ParamInit.Constant(0));
    }

    @Override
    public String describe() {
        return "layernorm" + (eps == 1e-5 ? "" : "(eps=" + eps + ")");
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("eps", eps);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] shape = b.inShape(0);
        int c = shape[shape.length - 1];
        int perSample = Rows.size(shape) / c;
        DeviceBuffer gamma = b.param("weight").data();
        DeviceBuffer beta = b.param("bias").data();
        DeviceBuffer dgamma = b.grad("weight").data();
        DeviceBuffer dbeta = b.grad("bias").data();
        Tensor meanAll = b.floats(b.capacity() * perSample);
        Tensor rstdAll = b.floats(b.capacity() * perSample);
        return rows -> {
            int n = rows * perSample;
            DeviceBuffer x = b.x(0).rows(rows).data();
            DeviceBuffer dy = b.dy().rows(rows).data();
            DeviceBuffer mean = meanAll.rows(n).data();
            DeviceBuffer rstd = rstdAll.rows(n).data();
            int[] geo = {n, c};
            OpCall fwd = LayerNormOps.LAYERNORM_FORWARD.call(new DeviceBuffer[] {x, gamma, beta, b.y().rows(rows).data(), mean, rstd},
                    geo, eps);
            OpCall params = LayerNormOps.LAYERNORM_PARAM_GRADS.call(new DeviceBuffer[] {x, dy, mean, rstd, dgamma, dbeta}, geo);
            Tensor dx = b.dx(0);
            OpCall xGrad = dx == null ? null
                    : LayerNormOps.LAYERNORM_BACKWARD.call(new DeviceBuffer[] {x, dy, mean, rstd, gamma, dx.rows(rows).data()}, geo);
            return new Pass() {
                @Override
                public void forward() {
                    d.run(fwd);
                }

                @Override
                public void backward() {
                    d.run(params);
                    if (xGrad != null) {
                        d.run(xGrad);
                    }
                }
            };
        };
    }
}
