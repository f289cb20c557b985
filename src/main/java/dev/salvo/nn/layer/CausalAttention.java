package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.Tensor;
import dev.salvo.device.ops.AttentionOps;
import dev.salvo.device.ops.MatmulOps;
import dev.salvo.nn.Layer;

/**
 * Causal multi-head self-attention on a fused query/key/value projection (GPT-2's
 * {@code c_attn} output): input {@code (T, 3C)} laid out {@code (T, 3, H, D)} with D = C / H,
 * output {@code (T, C)} laid out {@code (T, H, D)}, the heads concatenated, ready for the output
 * projection. No parameters.
 *
 * <p>Forward: the heads are split into {@code q, k, v (B*H, T, D)} ({@code heads_split}); the scores
 * {@code S = q k^T} (a strided batched matmul over the B*H heads); {@code P = softmax(S / sqrt(D))}
 * over each row's first i+1 entries, later ones masked to 0 ({@code causal_softmax}, a work-group
 * per row); {@code O = P v} (batched); the heads merged back ({@code heads_merge}).
 *
 * <p>Backward: {@code dO} split from dy; {@code dV = P^T dO}, {@code dP = dO v^T};
 * {@code dS = P (dP - rowsum(P dP)) / sqrt(D)} ({@code causal_softmax_backward});
 * {@code dq = dS k}, {@code dk = dS^T q}; dq, dk, dv merged into dx {@code (T, 3, H, D)}.
 * Keeps q, k, v and P of the batch for backward: {@code 3 B T C + B H T^2} floats; the scores
 * (reused for dP) and dS are scratch shared by every attention layer of the model.
 */
public record CausalAttention(int heads) implements Layer {

    public CausalAttention {
        if (heads < 1) {
            throw new IllegalArgumentException("causal_attention needs at least 1 head, got " + heads);
        }
    }

    @Override
    public String type() {
        return "causal_attention";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (in[0].length != 2 || in[0][1] % (3 * heads) != 0) {
            throw new IllegalArgumentException("causal_attention with " + heads + " heads expects (T, 3C) with C a multiple of "
                    + heads + " (the fused query, key and value projections)");
        }
        return new int[] {in[0][0], in[0][1] / 3};
    }

    @Override
    public String describe() {
        return "causal_attention(" + heads + " heads)";
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("heads", heads);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] shape = b.inShape(0);
        int t = shape[0];
        int c = shape[1] / 3;
        int hd = c / heads;
        int cap = b.capacity();
        double scale = 1.0 / Math.sqrt(hd);
        Tensor qkvAll = b.floats(3 * cap * heads * t * hd); // (3, B, H, T, D)
        Tensor dqkvAll = b.floats(3 * cap * heads * t * hd);
        Tensor probsAll = b.floats(cap * heads * t * t); // P (B*H, T, T)
        // S then dP, and dS: live within one pass, shared by every attention layer
        Tensor scoresAll = b.scratch("attention.scores", cap * heads * t * t);
        Tensor dscoresAll = b.scratch("attention.dscores", cap * heads * t * t);
        Tensor headsAll = b.floats(cap * heads * t * hd); // O, then dO (B*H, T, D)
        return rows -> {
            int bh = rows * heads;
            long part = (long) bh * t * hd;
            long sq = (long) bh * t * t;
            Tensor qkv = Tensor.of(qkvAll.data().slice(0, 3 * part), 3 * bh, t, hd);
            Tensor q = qkv.narrow(0, 0, bh);
            Tensor k = qkv.narrow(0, bh, bh);
            Tensor v = qkv.narrow(0, 2 * bh, bh);
            Tensor dqkv = Tensor.of(dqkvAll.data().slice(0, 3 * part), 3 * bh, t, hd);
            Tensor dq = dqkv.narrow(0, 0, bh);
            Tensor dk = dqkv.narrow(0, bh, bh);
            Tensor dv = dqkv.narrow(0, 2 * bh, bh);
            Tensor p = Tensor.of(probsAll.data().slice(0, sq), bh, t, t);
            Tensor s = Tensor.of(scoresAll.data().slice(0, sq), bh, t, t);
            Tensor ds = Tensor.of(dscoresAll.data().slice(0, sq), bh, t, t);
            Tensor o = Tensor.of(headsAll.data().slice(0, part), bh, t, hd);
            int[] split3 = {rows, t, 3, heads, hd};
            int[] split1 = {rows, t, 1, heads, hd};
            DeviceBuffer x = b.x(0).rows(rows).data();
            DeviceBuffer y = b.y().rows(rows).data();
            DeviceBuffer dy = b.dy().rows(rows).data();
            DeviceBuffer qkvData = qkv.data();
            DeviceBuffer dqkvData = dqkv.data();
            OpCall split = AttentionOps.HEADS_SPLIT.call(new DeviceBuffer[] {x, qkvData}, split3);
            OpCall scores = MatmulOps.matmul(q, k.transpose(1, 2), null, Activation.IDENTITY, s, null);
            OpCall softmax = AttentionOps.CAUSAL_SOFTMAX.call(new DeviceBuffer[] {s.data(), p.data()}, new int[] {bh, t}, scale);
            OpCall mix = MatmulOps.matmul(p, v, null, Activation.IDENTITY, o, null);
            OpCall merge = AttentionOps.HEADS_MERGE.call(new DeviceBuffer[] {o.data(), y}, split1);
            OpCall dySplit = AttentionOps.HEADS_SPLIT.call(new DeviceBuffer[] {dy, o.data()}, split1); // dO into O's place
            OpCall dV = MatmulOps.matmul(p.transpose(1, 2), o, null, Activation.IDENTITY, dv, null);
            OpCall dP = MatmulOps.matmul(o, v.transpose(1, 2), null, Activation.IDENTITY, s, null); // dP into S's place
            OpCall dS = AttentionOps.CAUSAL_SOFTMAX_BACKWARD.call(new DeviceBuffer[] {p.data(), s.data(), ds.data()},
                    new int[] {bh, t}, scale);
            OpCall dQ = MatmulOps.matmul(ds, k, null, Activation.IDENTITY, dq, null);
            OpCall dK = MatmulOps.matmul(ds.transpose(1, 2), q, null, Activation.IDENTITY, dk, null);
            Tensor dxT = b.dx(0);
            OpCall dX = dxT == null ? null
                    : AttentionOps.HEADS_MERGE.call(new DeviceBuffer[] {dqkvData, dxT.rows(rows).data()}, split3);
            return new Pass() {
                @Override
                public void forward() {
                    d.run(split);
                    d.run(scores);
                    d.run(softmax);
                    d.run(mix);
                    d.run(merge);
                }

                @Override
                public void backward() {
                    if (dX == null) {
                        return;
                    }
                    d.run(dySplit);
                    d.run(dV);
                    d.run(dP);
                    d.run(dS);
                    d.run(dQ);
                    d.run(dK);
                    d.run(dX);
                }
            };
        };
    }
}
