package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Tensor;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.NormOps;
import dev.salvo.nn.Layer;

/**
 * Batch normalization over each channel, as PyTorch's {@code BatchNorm2d} on {@code (C,H,W)} and
 * {@code BatchNorm1d} on {@code (F)}: in training, {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}
 * with the batch's mean and biased variance, and the running estimates updated with
 * {@code momentum} (unbiased variance); in eval mode the running estimates replace the batch's.
 * Parameters {@code weight} (gamma, starts at 1) and {@code bias} (beta, 0); state
 * {@code running_mean} (0) and {@code running_var} (1), which the optimizer never touches.
 */
public record BatchNorm(double eps, double momentum) implements Layer {

    public BatchNorm {
        if (!(eps > 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("batchnorm eps must be a positive number, got " + eps);
        }
        if (!(momentum >= 0 && momentum <= 1)) {
            throw new IllegalArgumentException("batchnorm momentum must be in [0, 1], got " + momentum);
        }
    }

    public BatchNorm() {
        this(1e-5, 0.1);
    }

    @Override
    public String type() {
        return "batchnorm";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 1 && in[0].length != 3) {
            throw new IllegalArgumentException("batchnorm expects features (F) or an image (C,H,W)");
        }
        return in[0].clone();
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        int c = in[0][0];
        d.param("weight", new int[] {c}, new ParamInit.Constant(1));
        d.param("bias", new int[] {c}, new ParamInit.Constant(0));
        d.state("running_mean", new int[] {c}, 0);
        d.state("running_var", new int[] {c}, 1);
    }

    @Override
    public String describe() {
        return "batchnorm" + (eps == 1e-5 && momentum == 0.1 ? "" : "(eps=" + eps + ",momentum=" + momentum + ")");
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("eps", eps);
        n.put("momentum", momentum);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] shape = b.inShape(0);
        int c = shape[0];
        int s = Rows.size(shape) / c;
        DeviceBuffer gamma = b.param("weight").data();
        DeviceBuffer beta = b.param("bias").data();
        DeviceBuffer dgamma = b.grad("weight").data();
        DeviceBuffer dbeta = b.grad("bias").data();
        DeviceBuffer runMean = b.state("running_mean").data();
        DeviceBuffer runVar = b.state("running_var").data();
        DeviceBuffer mean = b.floats(c).data();
        DeviceBuffer invstd = b.floats(c).data();
        Mode mode = b.mode();
        // the backward op writes dx with dgamma and dbeta: a first layer's dx goes to a workspace
        Tensor dxAll = b.dx(0) != null ? b.dx(0) : b.floats(b.x(0).dims());
        return rows -> {
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            int[] geo = {rows, c, s};
            OpCall stats = rows * s < 2 ? null : NormOps.BATCHNORM_STATS.call(new DeviceBuffer[] {x, mean, invstd, runMean, runVar},
                    geo, eps, momentum);
            OpCall train = NormOps.BATCHNORM_FORWARD.call(new DeviceBuffer[] {x, mean, invstd, gamma, beta, y}, geo);
            OpCall eval = NormOps.BATCHNORM_EVAL.call(new DeviceBuffer[] {x, runMean, runVar, gamma, beta, y}, geo, eps);
            OpCall bwd = NormOps.BATCHNORM_BACKWARD.call(new DeviceBuffer[] {x, Rows.of(b.dy(), rows), mean, invstd, gamma,
                    Rows.of(dxAll, rows), dgamma, dbeta}, geo);
            return new Pass() {
                @Override
                public void forward() {
                    if (mode.training()) {
                        if (stats == null) {
                            throw new IllegalStateException("batchnorm needs more than 1 value per channel in training (a batch of "
                                    + rows + " rows of " + s + " values)");
                        }
                        d.run(stats);
                        d.run(train);
                    } else {
                        d.run(eval);
                    }
                }

                @Override
                public void backward() {
                    d.run(bwd);
                }
            };
        };
    }
}
