package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.RandomOps;
import dev.salvo.nn.Layer;

/**
 * Data augmentation on images (C,H,W): in training, each sample is mirrored left-right with
 * probability 1/2, drawn by the counter-based generator from the run's seed, the layer's index,
 * the global step and the sample's index in the global batch ({@code random.hflip}), so every
 * provider, a resumed run and any number of data-parallel ranks flip the same samples; in eval
 * mode it passes the input through. Backward mirrors the gradient back.
 */
public record RandomFlip() implements Layer {

    @Override
    public String type() {
        return "random-hflip";
    }

    @Override
    public int[] outputShape(int[][] in) {
        Rows.requireImage(in[0], "random-hflip");
        return in[0].clone();
    }

    @Override
    public String describe() {
        return "random-hflip";
    }

    @Override
    public void toJson(ObjectNode n) {
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int[] s = b.inShape(0);
        int size = Rows.size(s);
        long key = b.randomKey();
        Mode mode = b.mode();
        return rows -> {
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            int[] ints = {rows, s[0], s[1], s[2], (int) key, (int) (key >>> 32), 0, 0};
            OpCall fwd = RandomOps.HFLIP.call(new DeviceBuffer[] {x, y}, ints);
            OpCall pass = ElementwiseOps.copy(x, y);
            OpCall bwd = b.dx(0) == null ? null : RandomOps.HFLIP.call(new DeviceBuffer[] {Rows.of(b.dy(), rows),
                    Rows.of(b.dx(0), rows)}, ints);
            return Dropout.randomPass(d, mode, fwd, pass, bwd, 6, 1, rows);
        };
    }
}
