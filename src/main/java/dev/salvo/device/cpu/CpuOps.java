package dev.salvo.device.cpu;

import dev.salvo.device.Op;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The CPU bodies of the declared ops. The bodies of family {@code f} are the class
 * {@code dev.salvo.device.cpu.<F>Cpu} (for example {@code ConvCpu} for {@code kernels/conv.kernel}),
 * a {@link Family} with one {@link Body} per op of the family; it is found by name, so adding an op
 * touches only its family's files. Each device makes its own bodies (they may keep scratch state).
 */
final class CpuOps {

    /** The arrays of one call, in float32: buffer {@code b} is {@code f[b]} or {@code i[b]} from {@code off[b]}. */
    static final class Args {
        final float[][] f;
        final int[][] i;
        final int[] off;
        int[] n;
        double[] r;
        final CpuPool pool;

        Args(int buffers, CpuPool pool) {
            f = new float[buffers][];
            i = new int[buffers][];
            off = new int[buffers];
            this.pool = pool;
        }

        void clear() {
            java.util.Arrays.fill(f, null);
            java.util.Arrays.fill(i, null);
        }
    }

    /** The body of one op. */
    interface Body {
        void run(Args a);
    }

    /**
     * A body split into index ranges on the pool, the common shape of the CPU bodies: it says how
     * many indices a call has ({@link #count}) and how many a task takes at least ({@link #grain}),
     * and runs one range reading the call's arrays from {@link #a}, which is set only while the call
     * runs (bodies are made once per device, so a run allocates nothing).
     */
    abstract static class Ranged implements Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private final int grain;
        /** The call in flight; null between calls. */
        protected Args a;

        /** A body over the indices {@code [0, n[0])}, {@code grain} of them per task at least. */
        Ranged(CpuPool pool, int grain) {
            this.pool = pool;
            this.grain = grain;
        }

        /** Indices of the call (elements, rows, planes, channels...): the first int argument unless overridden. */
        int count(Args a) {
            return a.n[0];
        }

        /** Indices per task at least, so small calls stay on one thread: the constructor's unless overridden. */
        int grain(Args a) {
            return grain;
        }

        @Override
        public final void run(Args args) {
            a = args;
            try {
                pool.forRange(count(args), Math.max(1, grain(args)), this);
            } finally {
                a = null;
            }
        }
    }

    /** The bodies of one family, made once per device. */
    interface Family {
        /** The body of op {@code name}, or null when this family has none. */
        Body body(String name, CpuPool pool);

        /**
         * As {@link #body(String, CpuPool)}, for a device whose Vector API paths are on when
         * {@code simd} (a family with Vector API bodies overrides this; the others ignore it).
         */
        default Body body(String name, CpuPool pool, boolean simd) {
            return body(name, pool);
        }

        /**
         * As {@link #body(String, CpuPool, boolean)}, for a device whose pool, Vector API switch and
         * matmul engine are those of {@code ops} (a family that needs the device's {@link CpuGemm}
         * overrides this).
         */
        default Body body(String name, CpuOps ops) {
            return body(name, ops.pool, ops.simd);
        }
    }

    /** Resolves a call's buffer to the device's own, checking owner, type and state. */
    interface Resolver {
        CpuDevice.Buf resolve(dev.salvo.device.DeviceBuffer b, boolean intBuffer, String name);
    }

    /** Runs {@code call}'s body on the arrays of its buffers. */
    void run(dev.salvo.device.OpCall call, Resolver resolver) {
        Op op = call.op();
        Body body = body(op);
        Args a = args(op);
        for (int b = 0; b < op.bufferCount(); b++) {
            Op.Param p = op.buffer(b);
            dev.salvo.device.DeviceBuffer given = call.buffer(b);
            if (given == null) { // an optional buffer the call does not use
                a.off[b] = 0;
                continue;
            }
            CpuDevice.Buf x = resolver.resolve(given, p.kind().isIntBuffer(), p.name());
            a.f[b] = x.f;
            a.i[b] = x.i;
            a.off[b] = x.off();
        }
        a.n = call.ints();
        a.r = call.reals();
        try {
            body.run(a);
        } finally {
            a.clear();
        }
    }

    private final CpuPool pool;
    private final boolean simd;
    private final CpuGemm gemm;
    private final Map<Op, Body> bodies = new IdentityHashMap<>();
    private final Map<Op, Args> args = new IdentityHashMap<>();
    private final Map<String, Family> families = new java.util.HashMap<>();

    /**
     * {@code simd}: the Vector API may be used (the module is loaded and the settings allow it);
     * {@code gemm}: the device's matrix-multiply engine.
     */
    CpuOps(CpuPool pool, boolean simd, CpuGemm gemm) {
        this.pool = pool;
        this.simd = simd;
        this.gemm = gemm;
    }

    CpuPool pool() {
        return pool;
    }

    boolean simd() {
        return simd;
    }

    CpuGemm gemm() {
        return gemm;
    }

    Body body(Op op) {
        Body b = bodies.get(op);
        if (b == null) {
            b = family(op.family()).body(op.name(), this);
            if (b == null) {
                throw new UnsupportedOperationException("the cpu provider has no body for " + op);
            }
            bodies.put(op, b);
        }
        return b;
    }

    Args args(Op op) {
        Args a = args.get(op);
        if (a == null) {
            a = new Args(op.bufferCount(), pool);
            args.put(op, a);
        }
        return a;
    }

    private Family family(String name) {
        Family f = families.get(name);
        if (f == null) {
            String cls = CpuOps.class.getPackageName() + "." + name.substring(0, 1).toUpperCase(Locale.ROOT)
                    + name.substring(1) + "Cpu";
            try {
                f = (Family) Class.forName(cls).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | ClassCastException e) {
                throw new UnsupportedOperationException("the cpu provider has no family class " + cls + ": " + e);
            }
            families.put(name, f);
        }
        return f;
    }
}
