package dev.salvo.nn.layer;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.ops.ElementwiseOps;
import dev.salvo.device.ops.RandomOps;
import dev.salvo.nn.Layer;

/**
 * Inverted dropout, any shape: in training {@code y = x * m / (1 - p)} with {@code m} 0 with
 * probability {@code p}, drawn by the counter-based generator from the run's seed, the layer's
 * index, the global step and the element's index in the global batch, so the mask is bitwise the
 * same on every provider, after a resume and over any number of data-parallel ranks; backward
 * recomputes the mask ({@code dx = dy * m / (1 - p)}). In eval mode {@code y = x}.
 */
public record Dropout(double p) implements Layer {

    public Dropout {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        }
    }

    @Override
    public String type() {
        return "dropout";
    }

    @Override
    public int[] outputShape(int[][] in) {
        return in[0].clone();
    }

    @Override
    public String describe() {
        return "dropout(" + p + ")";
    }

    @Override
    public void toJson(ObjectNode n) {
        n.put("p", p);
    }

    @Override
    public Runtime bind(Binding b) {
        Device d = b.device();
        int size = Rows.size(b.outShape());
        long key = b.randomKey();
        int seed0 = (int) key;
        int seed1 = (int) (key >>> 32);
        Mode mode = b.mode();
        return rows -> {
            int n = rows * size;
            DeviceBuffer x = Rows.of(b.x(0), rows);
            DeviceBuffer y = Rows.of(b.y(), rows);
            OpCall fwd = RandomOps.DROPOUT_FORWARD.call(new DeviceBuffer[] {x, y}, new int[] {n, seed0, seed1, 0, 0}, p);
            OpCall pass = ElementwiseOps.copy(x, y);
            OpCall bwd = b.dx(0) == null ? null : RandomOps.DROPOUT_BACKWARD.call(new DeviceBuffer[] {Rows.of(b.dy(), rows),
                    Rows.of(b.dx(0), rows)}, new int[] {n, seed0, seed1, 0, 0}, p);
            return randomPass(d, mode, fwd, pass, bwd, 3, size, rows);
        };
    }

    /**
     * The pass of a layer that draws from the device RNG in training and is the identity in eval
     * (dropout, random flip): {@code fwd} and {@code bwd} (null: no input gradient needed) get the
     * global step in int slot {@code stepSlot} and the global index of their first row's first draw
     * ({@link Mode#firstRow()} times {@code perRow} draws) in the slot after it before each run, so a
     * mask is drawn once per step, backward replays it, and a rank's shard draws its part of the
     * global batch's mask; {@code identity} copies x to y in eval mode.
     */
    static Pass randomPass(Device d, Mode mode, OpCall fwd, OpCall identity, OpCall bwd, int stepSlot, int perRow, int rows) {
        return new Pass() {
            /** The global index of the pass's first draw; the draws' 32-bit counters must not wrap. */
            private int first() {
                long f = (long) mode.firstRow() * perRow;
                if (f + (long) perRow * rows + 3 > Integer.MAX_VALUE) {
                    throw new IllegalStateException("a random layer draws " + perRow + " numbers a row: rows from "
                            + mode.firstRow() + " of the global batch pass the 2^31 draws its counters reach; use a smaller global batch");
                }
                return (int) f;
            }

            @Override
            public void forward() {
                if (mode.training()) {
                    fwd.setInt(stepSlot, (int) mode.step());
                    fwd.setInt(stepSlot + 1, first());
                    d.run(fwd);
                } else {
                    d.run(identity);
                }
            }

            @Override
            public void backward() {
                if (bwd != null) {
                    bwd.setInt(stepSlot, (int) mode.step());
                    bwd.setInt(stepSlot + 1, first());
                    d.run(bwd);
                }
            }
        };
    }
}
