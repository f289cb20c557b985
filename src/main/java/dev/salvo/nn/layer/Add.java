package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.TensorOps;
import dev.salvo.nn.Layer;
import dev.salvo.nn.NetworkSpec;
import java.util.Arrays;

/**
 * Elementwise sum of two inputs of the same shape, {@code y = a + b} (a residual connection);
 * backward {@code da = db = dy}. Where a value feeds several layers the graph adds their gradients.
 */
public record Add() implements Layer {

    @Override
    public String type() {
        return "add";
    }

    @Override
    public int arity() {
        return 2;
    }

    @Override
    public int[] outputShape(int[][] in) {
        if (!Arrays.equals(in[0], in[1])) {
            throw new IllegalArgumentException("add needs two inputs of the same shape, got " + NetworkSpec.shapeText(in[0], ",")
                    + " and " + NetworkSpec.shapeText(in[1], ","));
        }
        return in[0].clone();
    }

    @Override
    public String describe() {
        return "add";
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int size = Rows.size(b.outShape());
        return rows -> {
            OpCall add = TensorOps.ADD.call(new DeviceBuffer[] {Rows.of(b.x(0), rows), Rows.of(b.x(1), rows),
                    Rows.of(b.y(), rows)}, new int[] {rows * size});
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer da = Rows.of(b.dx(0), rows);
            DeviceBuffer db = Rows.of(b.dx(1), rows);
            OpCall toA = da == null ? null : ElementwiseOps.copy(dy, da);
            OpCall toB = db == null ? null : ElementwiseOps.copy(dy, db);
            return new Pass() {
                @Override
                public void forward() {
                    d.run(add);
                }

                @Override
                public void backward() {
                    if (toA != null) {
                        d.run(toA);
                    }
                    if (toB != null) {
                        d.run(toB);
                    }
                }
            };
        };
    }
}
