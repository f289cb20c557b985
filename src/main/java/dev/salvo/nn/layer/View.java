package dev.salvo.nn.layer;

import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.nn.Layer;

/**
 * The pass of a view layer (flatten, reshape): the graph gives its output the input's memory and,
 * when it can, its input gradient the output gradient's memory; otherwise the gradient is copied.
 */
final class View {

    private View() {
    }

    static Layer.Runtime runtime(Layer.Binding b) {
        int size = Rows.size(b.outShape());
        return rows -> {
            DeviceBuffer dy = Rows.of(b.dy(), rows);
            DeviceBuffer dx = Rows.of(b.dx(0), rows);
            boolean alias = b.dx(0) == null || b.dx(0).sameStart(b.dy());
            OpCall copy = alias ? null : ElementwiseOps.copy(dy, dx);
            return new Layer.Pass() {
                @Override
                public void forward() {
                    // the output is the input's memory
                }

                @Override
                public void backward() {
                    if (copy != null) {
                        b.device().run(copy);
                    }
                }
            };
        };
    }
}
