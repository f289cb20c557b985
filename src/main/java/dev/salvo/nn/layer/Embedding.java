package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.ops.AttentionOps;
import dev.salvo.nn.Layer;

/**
 * Token embedding, PyTorch's {@code nn.Embedding}: input {@code (T)} token ids (held as exact
 * small integers in the float input), output {@code (T, dim)} with row t = {@code weight[id_t]};
 * {@code weight (vocab, dim)} drawn from a normal with standard deviation {@code initStd} (GPT-2:
 * 0.02). An id outside {@code [0, vocab)} gives a row of NaN (PyTorch raises).
 *
 * <p>Backward is a deterministic scatter-add ({@code embedding_backward}: the rows added in order,
 * no atomics, bitwise reproducible). When a later layer ties to the weight (a language model's
 * output projection) that layer's backward has already written the gradient and this one adds to it.
 */
public record Embedding(int vocab, int dim, double initStd) implements Layer {

    public Embedding {
        if (vocab < 1 || dim < 1) {
            throw new IllegalArgumentException("an embedding needs vocab >= 1 and dim >= 1, got " + vocab + " and " + dim);
        }
        if (!(initStd > 0) || !Double.isFinite(initStd)) {
            throw new IllegalArgumentException("an embedding's init_std must be a positive number, got " + initStd);
        }
    }

    public Embedding(int vocab, int dim) {
        this(vocab, dim, 0.02);
    }

    @Override
    public String type() {
        return "embedding";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 1) {
            throw new IllegalArgumentException("embedding expects a sequence of token ids (T)");
        }
        return new int[] {in[0][0], dim};
    }

    @Override
    public void declare(int[][] in, Declarations d) {
        d.param("weight", new int[] {vocab, dim}, new ParamInit.Normal(initStd));
    }

    @Override
    public String describe() {
        return "embedding(" + vocab + "," + dim + ")";
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("vocab", vocab);
        n.put("dim", dim);
        if (initStd != 0.02) {
            n.put("init_std", initStd);
        }
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        DeviceBuffer w = b.param("weight").data();
        DeviceBuffer gw = b.grad("weight").data();
        int accumulate = b.gradShared("weight") ? 1 : 0;
        int t = b.inShape(0)[0];
        return rows -> {
            DeviceBuffer ids = b.x(0).rows(rows).data();
            int n = rows * t;
            OpCall fwd = AttentionOps.EMBEDDING_FORWARD.call(new DeviceBuffer[] {ids, w, b.y().rows(rows).data()}, new int[] {n, dim, vocab});
            OpCall bwd = AttentionOps.EMBEDDING_BACKWARD.call(new DeviceBuffer[] {ids, b.dy().rows(rows).data(), gw},
                    new int[] {n, dim, vocab, accumulate});
            return new Pass() {
                @Override
                public void forward() {
                    d.run(fwd);
                }

                @Override
                public void backward() {
                    d.run(bwd);
                }
            };
        };
    }
}
