package dev.salvo.device;

import java.lang.reflect.Array;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a declared op's {@link Op.Sample sample} on a device and compares every output with the
 * float64 reference under the op's {@link OpTolerance}: the one comparison behind the device
 * contract and {@code salvo check}.
 */
public final class OpCheck {

    private OpCheck() {
    }

    /** The comparison of one output buffer. */
    public record Result(Op op, String sample, String output, Tolerance.Worst worst) {
        public boolean pass() {
            return worst.pass();
        }

        public String describe() {
            return op + " [" + sample + "] " + output + ": " + (pass() ? "ok" : "FAILED ") + worst.describe();
        }
    }

    /**
     * Runs {@code s} on {@code device} and on the reference; one result per output buffer, and one
     * more for each output whose element just past its end came back changed (each buffer is
     * given one guard element past the call's slice).
     */
    public static List<Result> check(Device device, Op op, Op.Sample s) {
        return check(device, op, s, op.tolerance());
    }

    /** As {@link #check(Device, Op, Op.Sample)} under {@code tol} in place of the op's own tolerance (a TF32 device's matmul). */
    public static List<Result> check(Device device, Op op, Op.Sample s, OpTolerance tol) {
        Op.RefArgs ref = referenceRun(op, s, false);
        Op.RefArgs mag = tol instanceof OpTolerance.Sum ? referenceRun(op, s, true) : null;
        double[] past = new double[op.bufferCount()];
        Object[] got = deviceRun(device, op, s, past);
        List<Result> out = new ArrayList<>();
        if (tol instanceof OpTolerance.MatrixProduct mp) {
            out.addAll(MatrixProductCheck.check(op, s, mp, ref, got));
        }
        long terms = tol instanceof OpTolerance.Sum sum ? sum.terms().applyAsLong(s.n()) : 0;
        for (Op.Param p : op.params()) {
            if (!p.kind().isOutput()) {
                continue;
            }
            int b = p.slot();
            double guard = p.kind().isIntBuffer() ? INT_GUARD : GUARD;
            if (past[b] != guard) {
                out.add(new Result(op, s.label(), p.name() + " (the element past its end)",
                        new Tolerance.Worst(Array.getLength(got[b]), past[b], guard, Double.NaN, 0)));
            }
            if (tol instanceof OpTolerance.MatrixProduct) {
                continue;
            }
            Tolerance.Worst w = Tolerance.Worst.NONE;
            if (p.kind().isIntBuffer()) {
                int[] g = (int[]) got[b];
                int[] r = ref.i[b];
                for (int k = 0; k < r.length; k++) {
                    double err = g[k] == r[k] ? 0 : Double.NaN;
                    w = w.worse(new Tolerance.Worst(k, g[k], r[k], err, 0));
                }
            } else {
                float[] g = (float[]) got[b];
                double[] r = ref.f[b];
                for (int k = 0; k < r.length; k++) {
                    double bound;
                    if (tol instanceof OpTolerance.Elementwise e) {
                        bound = e.atol() + e.rtol() * Math.abs(r[k]);
                    } else if (tol instanceof OpTolerance.Sum) {
                        bound = 2 * Tolerance.gamma(terms + 1) * Math.abs(mag.f[b][k]);
                    } else {
                        bound = Math.abs(r[k] - (float) r[k]);
                    }
                    w = w.worse(compare(k, g[k], r[k], bound));
                }
            }
            out.add(new Result(op, s.label(), p.name(), w));
        }
        return out;
    }

    private static Tolerance.Worst compare(int k, float g, double r, double bound) {
        if (!Double.isFinite(r)) {
            boolean same = Double.isNaN(r) ? Float.isNaN(g) : g == r;
            return new Tolerance.Worst(k, g, r, same ? 0 : Double.NaN, 0);
        }
        double err = Float.isFinite(g) ? Math.abs(g - r) : Double.NaN;
        return new Tolerance.Worst(k, g, r, err, bound);
    }

    /**
     * The sample with a NaN planted at a random element of its first non-empty float input (the
     * sample itself when it has none): the reference says where the NaN must show up.
     */
    public static Op.Sample withNaN(Op op, Op.Sample s, java.util.Random r) {
        Object[] data = s.data().clone();
        for (Op.Param p : op.params()) {
            if ((p.kind() == Op.Kind.IN || p.kind() == Op.Kind.INOUT) && ((double[]) data[p.slot()]).length > 0) {
                double[] x = ((double[]) data[p.slot()]).clone();
                x[r.nextInt(x.length)] = Double.NaN;
                data[p.slot()] = x;
                return new Op.Sample(s.label() + ", NaN in " + p.name(), s.n(), s.r(), data);
            }
        }
        return s;
    }

    /**
     * Runs the reference on the sample's inputs rounded to float32 (what a float32 device sees), or
     * on their absolute values ({@code abs}) for a {@link OpTolerance.Sum} bound.
     */
    public static Op.RefArgs referenceRun(Op op, Op.Sample s, boolean abs) {
        Op.RefArgs a = new Op.RefArgs(op.bufferCount());
        for (int b = 0; b < op.bufferCount(); b++) {
            Object d = s.data()[b];
            if (d instanceof double[] x) {
                double[] c = new double[x.length];
                for (int k = 0; k < x.length; k++) {
                    double v = (float) x[k];
                    c[k] = abs ? Math.abs(v) : v;
                }
                a.f[b] = c;
            } else {
                a.i[b] = ((int[]) d).clone();
            }
        }
        a.n = s.n().clone();
        a.r = s.r().clone();
        op.reference(a);
        return a;
    }

    /** Uploads the sample, runs it on {@code device} and downloads every buffer. */
    public static Object[] deviceRun(Device device, Op op, Op.Sample s) {
        return deviceRun(device, op, s, new double[op.bufferCount()]);
    }

    /** The value of the guard element past each buffer's slice. */
    static final float GUARD = 31337.25f;
    static final int INT_GUARD = 0x5a5a5a5a;

    /**
     * {@link #deviceRun(Device, Op, Op.Sample)}; each buffer is the first elements of one with a
     * guard element more ({@link #GUARD}, {@link #INT_GUARD}), which {@code past[b]} gets as it came back.
     */
    private static Object[] deviceRun(Device device, Op op, Op.Sample s, double[] past) {
        DeviceBuffer[] bufs = new DeviceBuffer[op.bufferCount()];
        DeviceBuffer[] roots = new DeviceBuffer[op.bufferCount()];
        try {
            for (int b = 0; b < bufs.length; b++) {
                Object d = s.data()[b];
                if (d instanceof double[] x) {
                    roots[b] = device.allocFloat(x.length + 1L);
                    double[] h = new double[x.length + 1];
                    for (int k = 0; k < x.length; k++) {
                        h[k] = (float) x[k]; // what referenceRun reads, on a float64 device too
                    }
                    h[x.length] = GUARD;
                    device.upload(h, roots[b]);
                    bufs[b] = roots[b].slice(0, x.length);
                } else {
                    int[] x = (int[]) d;
                    roots[b] = device.allocInt(x.length + 1L);
                    int[] h = java.util.Arrays.copyOf(x, x.length + 1);
                    h[x.length] = INT_GUARD;
                    device.upload(h, roots[b]);
                    bufs[b] = roots[b].slice(0, x.length);
                }
            }
            device.run(op.call(bufs, s.n(), s.r()));
            Object[] out = new Object[bufs.length];
            for (int b = 0; b < bufs.length; b++) {
                Object d = s.data()[b];
                if (d instanceof double[] x) {
                    float[] h = new float[x.length + 1];
                    device.download(roots[b], h);
                    past[b] = h[x.length];
                    out[b] = java.util.Arrays.copyOf(h, x.length);
                } else {
                    int[] h = new int[((int[]) d).length + 1];
                    device.download(roots[b], h);
                    past[b] = h[h.length - 1];
                    out[b] = java.util.Arrays.copyOf(h, h.length - 1);
                }
            }
            return out;
        } finally {
            for (DeviceBuffer b : roots) {
                if (b != null) {
                    b.close();
                }
            }
        }
    }
}
