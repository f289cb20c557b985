package dev.salvo.nn;

import dev.salvo.device.Activation;
import dev.salvo.nn.layer.Add;
import dev.salvo.nn.layer.CausalAttention;
import dev.salvo.nn.layer.Dense;
import dev.salvo.nn.layer.Embedding;
import dev.salvo.nn.layer.LayerNorm;
import dev.salvo.nn.layer.PositionEmbedding;

/**
 * A decoder-only transformer as GPT-2 and nanoGPT build it, written out block by block as a
 * {@link NetworkSpec} graph with nanoGPT's parameter names (without {@code transformer.}):
 * {@code wte} (token embedding), {@code wpe} (position embedding), then per block {@code h.i}:
 * {@code ln_1}, {@code attn.c_attn} (the fused query/key/value projection), {@code attn} (causal
 * attention), {@code attn.c_proj}, the residual {@code res_1}, {@code ln_2}, {@code mlp.c_fc} (4C,
 * tanh-GELU), {@code mlp.c_proj}, the residual {@code res_2}; then {@code ln_f} and {@code lm_head}
 * tied to {@code wte.weight}. Every linear layer has a bias; no dropout. Initialisation as nanoGPT:
 * normal(0, 0.02) weights, the residual projections' {@code c_proj.weight} normal(0, 0.02 / sqrt(2L)),
 * biases 0, layer norms 1 and 0. Weight decay on matrices only ({@link DecayPolicy#MATRICES}).
 */
public final class Gpt {

    private Gpt() {
    }

    /** The standard deviation of GPT-2's weight initialisation. */
    public static final double INIT_STD = 0.02;

    /**
     * The network for {@code context}-token windows over a {@code vocab}-symbol vocabulary.
     *
     * @throws IllegalArgumentException when {@code embd} is not a multiple of {@code heads} or a size is below 1
     */
    public static NetworkSpec spec(int layers, int heads, int embd, int context, int vocab) {
        if (layers < 1 || heads < 1 || embd < 1 || context < 1 || vocab < 1) {
            throw new IllegalArgumentException("a GPT needs layers, heads, embd, context and vocab of at least 1, got " + layers + ", "
                    + heads + ", " + embd + ", " + context + ", " + vocab);
        }
        if (embd % heads != 0) {
            throw new IllegalArgumentException("a GPT's width " + embd + " must be a multiple of its " + heads + " heads");
        }
        double projStd = INIT_STD / Math.sqrt(2.0 * layers);
        NetworkSpec.Builder b = NetworkSpec.input(context);
        b.add("wte", new Embedding(vocab, embd, INIT_STD), "input");
        b.add("wpe", new PositionEmbedding(INIT_STD), "wte");
        String x = "wpe";
        for (int i = 0; i < layers; i++) {
            String h = "h." + i + ".";
            b.add(h + "ln_1", new LayerNorm(), x);
            b.add(h + "attn.c_attn", new Dense(3 * embd, Activation.IDENTITY, true, INIT_STD, null), h + "ln_1");
            b.add(h + "attn", new CausalAttention(heads), h + "attn.c_attn");
            b.add(h + "attn.c_proj", new Dense(embd, Activation.IDENTITY, true, projStd, null), h + "attn");
            b.add(h + "res_1", new Add(), x, h + "attn.c_proj");
            b.add(h + "ln_2", new LayerNorm(), h + "res_1");
            b.add(h + "mlp.c_fc", new Dense(4 * embd, Activation.GELU, true, INIT_STD, null), h + "ln_2");
            b.add(h + "mlp.c_proj", new Dense(embd, Activation.IDENTITY, true, projStd, null), h + "mlp.c_fc");
            b.add(h + "res_2", new Add(), h + "res_1", h + "mlp.c_proj");
            x = h + "res_2";
        }
        b.add("ln_f", new LayerNorm(), x);
        b.add("lm_head", new Dense(vocab, Activation.IDENTITY, false, 0, "wte.weight"), "ln_f");
        b.decay(DecayPolicy.MATRICES);
        return b.build();
    }
}
