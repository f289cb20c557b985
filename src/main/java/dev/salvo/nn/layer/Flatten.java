package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.nn.Layer;

/**
 * {@code (C,H,W) -> (C*H*W)}, or any shape to features: a view of the input's memory (NCHW flattens
 * channel-major, like {@code torch.flatten(x, 1)}); forward and backward move nothing.
 */
public record Flatten() implements Layer {

    @Override
    public String type() {
        return "flatten";
    }

    @Override
    public int[] outputShape(int[][] in) {
        return new int[] {Rows.size(in[0])};
    }

    @Override
    public boolean isView() {
        return true;
    }

    @Override
    public String describe() {
        return "flatten";
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        return View.runtime(b);
    }
}
