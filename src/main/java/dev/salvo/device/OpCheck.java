package dev.salvo.device;

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

    /** Runs {@code s} on {@code device} and on the reference; one result per output buffer. */
    public static List<Result> check(Device device, Op op, Op.Sample s) {
        Op.RefArgs ref = referenceRun(op, s, false);
        Op.RefArgs mag = op.tolerance() instanceof OpTolerance.Sum ? referenceRun(op, s, true) : null;
        Object[] got = deviceRun(device, op, s);
        List<Result> out = new ArrayList<>();
        long terms = op.tolerance() instanceof OpTolerance.Sum sum ? sum.terms().applyAsLong(s.n()) : 0;
        for (Op.Param p : op.params()) {
            if (!p.kind().isOutput()) {
                continue;
            }
            int b = p.slot();
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
                    if (op.tolerance() instanceof OpTolerance.Elementwise e) {
                        bound = e.atol() + e.rtol() * Math.abs(r[k]);
                    } else if (op.tolerance() instanceof OpTolerance.Sum) {
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
        DeviceBuffer[] bufs = new DeviceBuffer[op.bufferCount()];
        DeviceBuffer[] roots = new DeviceBuffer[op.bufferCount()];
        try {
            for (int b = 0; b < bufs.length; b++) {
                Object d = s.data()[b];
                if (d instanceof double[] x) {
                    roots[b] = device.allocFloat(Math.max(1, x.length));
                    bufs[b] = roots[b].slice(0, x.length);
                    if (x.length > 0) {
                        device.upload(x, bufs[b]);
                    }
                } else {
                    int[] x = (int[]) d;
                    roots[b] = device.allocInt(Math.max(1, x.length));
                    bufs[b] = roots[b].slice(0, x.length);
                    if (x.length > 0) {
                        device.upload(x, bufs[b]);
                    }
                }
            }
            device.run(op.call(bufs, s.n(), s.r()));
            Object[] out = new Object[bufs.length];
            for (int b = 0; b < bufs.length; b++) {
                Object d = s.data()[b];
                if (d instanceof double[] x) {
                    float[] h = new float[x.length];
                    if (x.length > 0) {
                        device.download(bufs[b], h);
                    }
                    out[b] = h;
                } else {
                    int[] h = new int[((int[]) d).length];
                    if (h.length > 0) {
                        device.download(bufs[b], h);
                    }
                    out[b] = h;
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
