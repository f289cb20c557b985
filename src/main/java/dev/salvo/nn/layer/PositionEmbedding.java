package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.ReduceOps;
import dev.salvo.device.ops.TensorOps;
import dev.salvo.nn.Layer;

/**
 * Learned position embedding (GPT-2's {@code wpe}): input {@code (T, C)} (the token embeddings),
 * output the same plus {@code weight (T, C)} broadcast over the batch; {@code weight} drawn from a
 * normal with standard deviation {@code initStd} (0.02). Backward: {@code dx = dy}, and
 * {@code dweight} the sum of {@code dy} over the batch in a fixed order.
 */
public record PositionEmbedding(double initStd) implements Layer {

    public PositionEmbedding {
        if (!(initStd > 0) || !Double.isFinite(initStd)) {
            throw new IllegalArgumentException("a position embedding's init_std must be a positive number, got " + initStd);
        }
    }

    public PositionEmbedding() {
        this(0.02);
    }

    @Override
    public String type() {
        return "position_embedding";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 2) {
            throw new IllegalArgumentException("position_embedding expects a sequence of vectors (T,C)");
        }
        return in[0].clone();
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        d.param("weight", in[0].clone(), new ParamInit.Normal(initStd));
    }

    @Override
    public String describe() {
        return "position_embedding";
    }

    @Override
    public void toJson(ObjectNode n) {
        if (initStd != 0.02) {
            n.put("init_std", initStd);
        }
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        DeviceBuffer w = b.param("weight").data();
        DeviceBuffer gw = b.grad("weight").data();
        int size = (int) w.length();
        return rows -> {
            DeviceBuffer dy = b.dy().rows(rows).data();
            OpCall fwd = TensorOps.CHANNEL_BIAS.call(new DeviceBuffer[] {b.x(0).rows(rows).data(), w, b.y().rows(rows).data()},
                    new int[] {rows, size, 1});
            OpCall wGrad = ReduceOps.columnSums(rows, size, dy, gw);
            Tensor dx = b.dx(0);
            OpCall xGrad = dx == null ? null : ElementwiseOps.copy(dy, dx.rows(rows).data());
            return new Pass() {
                @Override
                public void forward() {
                    d.run(fwd);
                }

                @Override
                public void backward() {
                    d.run(wGrad);
                    if (xGrad != null) {
                        d.run(xGrad);
                    }
                }
            };
        };
    }
}
