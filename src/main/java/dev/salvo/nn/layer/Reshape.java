package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.nn.Layer;
import dev.salvo.nn.NetworkSpec;

/** Any shape to {@code shape} with the same number of elements: a view, like {@code x.view(N, *shape)}. */
public record Reshape(int[] shape) implements Layer {

    public Reshape {
        shape = shape.clone();
        for (int d : shape) {
            Rows.positive(d, "every reshape dimension");
        }
    }

    @Override
    public String type() {
        return "reshape";
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (Rows.size(in[0]) != Rows.size(shape)) {
            throw new IllegalArgumentException("reshape to " + NetworkSpec.shapeText(shape, ",") + " needs "
                    + Rows.size(shape) + " elements per sample, the input has " + Rows.size(in[0]));
        }
        return shape.clone();
    }

    @Override
    public boolean isView() {
        return true;
    }

    @Override
    public String describe() {
        return "reshape" + NetworkSpec.shapeText(shape, ",");
    }

    @Override
    public void toJson(ObjectNode n) {
        var a = n.putArray("shape");
        for (int d : shape) {
            a.add(d);
        }
    }

    @Override
    public Runtime bind(Binding b) {
        return View.runtime(b);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Reshape r && java.util.Arrays.equals(r.shape, shape);
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return describe();
    }
}
