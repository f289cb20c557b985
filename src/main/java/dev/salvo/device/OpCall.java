package dev.salvo.device;

/**
 * A call of a declared {@link Op} bound to its buffers, ints and reals, checked once when made
 * (buffer types and lengths against {@link Op#lengths}) so that running it on the training path
 * checks nothing more and allocates nothing. Built once per batch shape and reused each step;
 * only the non-size ints (a step counter, a seed) and the reals may change between runs.
 */
public final class OpCall {

    private final Op op;
    private final DeviceBuffer[] buffers;
    private final int[] n;
    private final double[] r;

    OpCall(Op op, DeviceBuffer[] buffers, int[] n, double[] r) {
        if (buffers.length != op.bufferCount() || n.length != op.intCount() || r.length != op.realCount()) {
            throw new IllegalArgumentException(op.name() + " takes " + op.bufferCount() + " buffers, " + op.intCount()
                    + " ints and " + op.realCount() + " reals; got " + buffers.length + ", " + n.length + ", " + r.length);
        }
        op.validate(n, r);
        long[] need = op.lengths(n);
        Device owner = null;
        for (int b = 0; b < buffers.length; b++) {
            Op.Param p = op.buffer(b);
            DeviceBuffer x = buffers[b];
            if (x == null) {
                if (p.optional() && need[b] == 0) {
                    continue;
                }
                throw new IllegalArgumentException(op.name() + ": " + p.name() + " is null"
                        + (p.optional() ? " but this call needs " + need[b] + " elements of it" : ""));
            }
            DType want = p.kind().isIntBuffer() ? DType.INT : DType.FLOAT;
            if (x.dtype() != want) {
                throw new IllegalArgumentException(op.name() + ": " + p.name() + " must be a " + want + " buffer, got " + x.dtype());
            }
            if (x.length() < need[b]) {
                throw new IllegalArgumentException(op.name() + ": " + p.name() + " holds " + x.length()
                        + " elements, needs " + need[b]);
            }
            if (owner == null) {
                owner = x.device();
            } else if (x.device() != owner) {
                throw new IllegalArgumentException(op.name() + ": " + p.name() + " belongs to another device");
            }
        }
        this.op = op;
        this.buffers = buffers.clone();
        this.n = n.clone();
        this.r = r.clone();
    }

    public Op op() {
        return op;
    }

    /** Buffer in slot {@code b}; null only for an optional buffer the call does not use. */
    public DeviceBuffer buffer(int b) {
        return buffers[b];
    }

    /** Int argument in slot {@code i}. */
    public int intArg(int i) {
        return n[i];
    }

    /** Real argument in slot {@code i}. */
    public double realArg(int i) {
        return r[i];
    }

    /** The int arguments (do not modify; use {@link #setInt}). */
    public int[] ints() {
        return n;
    }

    /** The real arguments (do not modify; use {@link #setReal}). */
    public double[] reals() {
        return r;
    }

    /** Changes a non-size int argument (a step counter or seed) for the next run. */
    public OpCall setInt(int slot, int value) {
        if (op.intIsSize(slot)) {
            throw new IllegalArgumentException(op.name() + ": int argument " + slot + " is a size; make a new call");
        }
        n[slot] = value;
        return this;
    }

    /** Changes a real argument for the next run. */
    public OpCall setReal(int slot, double value) {
        r[slot] = value;
        return this;
    }

    @Override
    public String toString() {
        return op + java.util.Arrays.toString(n);
    }
}
