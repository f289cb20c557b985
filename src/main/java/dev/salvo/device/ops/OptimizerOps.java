package dev.salvo.device.ops;

import dev.salvo.device.AdamStep;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.OpTolerance;
import dev.salvo.device.Tolerance;
import dev.salvo.device.SgdStep;
import java.util.List;
import java.util.Random;

/**
 * One optimizer step over the flat parameter buffer ({@code kernels/optimizer.kernel}), PyTorch's
 * semantics ({@link SgdStep}, {@link AdamStep}): one work-item per element in work-groups of
 * {@code wg.elementwise}. Both skip entirely (nothing written) while {@code flag (1)}, the
 * trainer's health flag, is not finite. The per-step scalars that lose precision in float32
 * ({@code 1 - beta}, {@code lr / (1 - beta1^t)}, {@code 1 - lr wd}) come computed in float64 by
 * the builders, and a float32 provider rounds each once.
 *
 * <p>A trainer builds its call once ({@link #sgd}, {@link #adam}) and moves the learning rate and
 * step number each step with {@link #set(OpCall, SgdStep)} or {@link #set(OpCall, AdamStep)},
 * which allocate nothing.
 */
public final class OptimizerOps {

    private OptimizerOps() {
    }

    /** Base of the updates over {@code n} elements with a health flag. */
    private abstract static class Update extends Op {
        Update(String name, String signature) {
            super("optimizer", name, signature);
        }

        @Override
        public long work(int[] n) {
            return n[0];
        }

        /** Slot of the flag among the buffers (the last). */
        int flagSlot() {
            return bufferCount() - 1;
        }

        /** The gradient scale: {@code gscale[0]} (buffer {@code slot}) when {@code hasScale}, else 1. */
        static double scale(RefArgs a, int hasScale, int slot) {
            return hasScale != 0 ? a.f[slot][a.off[slot]] : 1;
        }

        static boolean skip(RefArgs a, int flag) {
            return !Double.isFinite(a.f[flag][a.off[flag]]);
        }

        static void checkFlag(String op, String name, int v) {
            if (v != 0 && v != 1) {
                throw new IllegalArgumentException(op + ": " + name + " must be 0 or 1, got " + v);
            }
        }

        /** Name of real parameter {@code k}, for messages. */
        String realName(int k) {
            for (Param p : params()) {
                if (p.kind() == Kind.REAL && p.slot() == k) {
                    return p.name();
                }
            }
            throw new IndexOutOfBoundsException(name() + " has no real " + k);
        }

        static void checkFinite(String op, String name, double v) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(op + ": " + name + " must be finite, got " + v);
            }
        }

        /** A finite flag (0): the update runs; a gradient scale in [0.3, 1), as clipping leaves it. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            if (buffer(b).name().equals("gscale")) {
                double[] x = new double[length];
                java.util.Arrays.fill(x, 0.3 + 0.7 * r.nextDouble());
                return x;
            }
            return b == flagSlot() ? new double[length] : super.input(b, length, n, r);
        }

        /** {@code s} with its {@code hasScale} int (slot {@code k}) set: a gradient scale is drawn. */
        Sample scaled(String what, Random r, int[] n, int k, double[] reals) {
            int[] m = n.clone();
            m[k] = 1;
            return sample(what + ", gradient scaled", r, m, reals);
        }

        /** The sample with a NaN health flag: the update must leave everything as it was. */
        Sample skipped(Sample s) {
            ((double[]) s.data()[flagSlot()])[0] = Double.NaN;
            return new Sample(s.label() + ", flag NaN: skipped", s.n(), s.r(), s.data());
        }
    }

    /**
     * SGD ({@link SgdStep}) over {@code w, g (n)}: {@code d = g + weightDecay w}; with
     * {@code hasV}: {@code v = momentum v + d}, {@code d = nesterov ? d + momentum v : v};
     * {@code w -= lr d}. Without {@code hasV} the velocity is neither read nor written (it may be
     * absent: null).
     */
    public static final Op SGD_UPDATE = new Update("sgd_update",
            "int n, inout w, in g, inout? v, int hasV, real lr, real momentum, int nesterov, real weightDecay, int hasScale, in? gscale, in flag") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0], n[1] != 0 ? n[0] : 0, n[3] != 0 ? 1 : 0, 1};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            checkFlag(name(), "hasV", n[1]);
            checkFlag(name(), "nesterov", n[2]);
            checkFlag(name(), "hasScale", n[3]);
            checkFinite(name(), "lr", r[0]);
            checkFinite(name(), "momentum", r[1]);
            checkFinite(name(), "weightDecay", r[2]);
        }

        @Override
        public void reference(RefArgs a) {
            if (skip(a, 4)) {
                return;
            }
            double gs = scale(a, a.n[3], 3);
            boolean hasV = a.n[1] != 0;
            boolean nesterov = a.n[2] != 0;
            double lr = a.r[0];
            double mu = a.r[1];
            double wd = a.r[2];
            double[] w = a.f[0];
            double[] g = a.f[1];
            double[] v = a.f[2];
            for (int i = 0; i < a.n[0]; i++) {
                int wi = a.off[0] + i;
                double d = g[a.off[1] + i] * gs + wd * w[wi];
                if (hasV) {
                    int vi = a.off[2] + i;
                    v[vi] = mu * v[vi] + d;
                    d = nesterov ? d + mu * v[vi] : v[vi];
                }
                w[wi] -= lr * d;
            }
        }

        /** Velocity in [-0.1, 0.1). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            double[] x = super.input(b, length, n, r);
            if (b == 2) {
                for (int i = 0; i < length; i++) {
                    x[i] *= 0.1;
                }
            }
            return x;
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sgdSample("sgd", r, 3001, new SgdStep(0.1, 0, false, 0)),
                    sgdSample("sgd momentum", r, 3001, new SgdStep(0.05, 0.9, false, 1e-2)),
                    sgdSample("sgd nesterov", r, 3001, new SgdStep(0.05, 0.9, true, 1e-3)),
                    sgdSample("sgd momentum", r, 1, new SgdStep(0.5, 0.5, false, 0.1)),
                    sgdSample("sgd", r, 0, new SgdStep(0.1, 0.9, false, 0)),
                    skipped(sgdSample("sgd momentum", r, 1037, new SgdStep(0.1, 0.9, false, 0))),
                    scaled("sgd momentum n=3001", r, sgdInts(3001, new SgdStep(0.05, 0.9, false, 1e-2)), 3,
                            sgdReals(new SgdStep(0.05, 0.9, false, 1e-2))),
                    scaled("sgd n=17", r, sgdInts(17, new SgdStep(0.1, 0, false, 0)), 3, sgdReals(new SgdStep(0.1, 0, false, 0))));
        }

        private Sample sgdSample(String what, Random r, int n, SgdStep s) {
            return sample(what + " n=" + n, r, sgdInts(n, s), sgdReals(s));
        }
    };

    /**
     * Adam ({@code decoupled} 0) or AdamW ({@code decoupled} 1) over {@code w, g, m, v (n)}
     * ({@link AdamStep}): Adam {@code d = g + weightDecay w}, AdamW {@code w *= decay, d = g};
     * {@code m = beta1 m + oneMinusBeta1 d}, {@code v = beta2 v + oneMinusBeta2 d^2},
     * {@code w -= stepSize m / (sqrt(v) / sqrtBc2 + eps)} with {@code decay = 1 - lr weightDecay},
     * {@code stepSize = lr / (1 - beta1^t)}, {@code sqrtBc2 = sqrt(1 - beta2^t)}.
     */
    public static final Op ADAM_UPDATE = new Update("adam_update",
            "int n, inout w, in g, inout m, inout v, real beta1, real oneMinusBeta1, real beta2, real oneMinusBeta2, real eps, "
                    + "real weightDecay, int decoupled, real decay, real stepSize, real sqrtBc2, int hasScale, in? gscale, in flag") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0], n[0], n[0], n[2] != 0 ? 1 : 0, 1};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            checkFlag(name(), "decoupled", n[1]);
            checkFlag(name(), "hasScale", n[2]);
            for (int k = 0; k < r.length; k++) {
                checkFinite(name(), realName(k), r[k]);
            }
        }

        @Override
        public void reference(RefArgs a) {
            if (skip(a, 5)) {
                return;
            }
            double gs = scale(a, a.n[2], 4);
            boolean decoupled = a.n[1] != 0;
            double b1 = a.r[0];
            double omb1 = a.r[1];
            double b2 = a.r[2];
            double omb2 = a.r[3];
            double eps = a.r[4];
            double wd = a.r[5];
            double decay = a.r[6];
            double stepSize = a.r[7];
            double sqrtBc2 = a.r[8];
            double[] w = a.f[0];
            double[] m = a.f[2];
            double[] v = a.f[3];
            for (int i = 0; i < a.n[0]; i++) {
                int wi = a.off[0] + i;
                int mi = a.off[2] + i;
                int vi = a.off[3] + i;
                double d = a.f[1][a.off[1] + i] * gs;
                if (decoupled) {
                    w[wi] *= decay;
                } else {
                    d += wd * w[wi];
                }
                m[mi] = b1 * m[mi] + omb1 * d;
                v[vi] = b2 * v[vi] + omb2 * d * d;
                w[wi] -= stepSize * m[mi] / (Math.sqrt(v[vi]) / sqrtBc2 + eps);
            }
        }

        /** m in [-0.1, 0.1), v in [0, 0.01) (a second moment is never negative). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            if (b == 3) {
                double[] x = new double[length];
                for (int i = 0; i < length; i++) {
                    x[i] = 0.01 * r.nextDouble();
                }
                return x;
            }
            double[] x = super.input(b, length, n, r);
            if (b == 2) {
                for (int i = 0; i < length; i++) {
                    x[i] *= 0.1;
                }
            }
            return x;
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(adamSample("adam", r, 2999, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1)),
                    adamSample("adam", r, 2999, new AdamStep(1e-2, 0.9, 0.999, 1e-8, 1e-2, false, 7)),
                    adamSample("adamw", r, 2999, new AdamStep(3e-3, 0.8, 0.99, 1e-6, 0.05, true, 123)),
                    adamSample("adamw", r, 1, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0.01, true, 2)),
                    adamSample("adam", r, 0, new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1)),
                    skipped(adamSample("adamw", r, 1037, new AdamStep(0.1, 0.9, 0.999, 1e-8, 0.1, true, 1))),
                    scaled("adamw n=2999 t=5", r, new int[] {2999, 1, 0}, 2, adamReals(new AdamStep(3e-3, 0.9, 0.95, 1e-8, 0.1, true, 5))),
                    scaled("adam n=33 t=1", r, new int[] {33, 0, 0}, 2, adamReals(new AdamStep(1e-3, 0.9, 0.999, 1e-8, 0, false, 1))));
        }

        private Sample adamSample(String what, Random r, int n, AdamStep s) {
            return sample(what + " n=" + n + " t=" + s.t(), r, new int[] {n, s.decoupled() ? 1 : 0, 0}, adamReals(s));
        }
    };

    /**
     * Gradient clipping's factor, as {@code torch.nn.utils.clip_grad_norm_} computes it:
     * {@code norm (1) = sqrt(sum of part (parts))} (the partial sums of squares of
     * {@link ReduceOps#SUMSQ_ALL}, added in order) and {@code scale (1) = min(1, maxNorm / (norm + 1e-6))};
     * a NaN norm gives a NaN scale (the health check then stops the step). One work-item.
     */
    public static final Op CLIP_SCALE = new Op("optimizer", "clip_scale", "int parts, real maxNorm, in part, out norm, out scale") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], 1, 1};
        }

        @Override
        public long work(int[] n) {
            return 1;
        }

        @Override
        public long[] local(int[] n, int wg) {
            return new long[] {1};
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[0] < 1) {
                throw new IllegalArgumentException(name() + ": parts must be at least 1, got " + n[0]);
            }
            if (!(r[0] > 0) || !Double.isFinite(r[0])) {
                throw new IllegalArgumentException(name() + ": maxNorm must be a positive finite number, got " + r[0]);
            }
        }

        @Override
        public void reference(RefArgs a) {
            double s = 0;
            for (int p = 0; p < a.n[0]; p++) {
                s += a.f[0][a.off[0] + p];
            }
            double norm = Math.sqrt(s);
            double c = a.r[0] / (norm + 1e-6);
            a.f[1][a.off[1]] = norm;
            a.f[2][a.off[2]] = Double.isNaN(c) ? c : Math.min(1, c);
        }

        /** Partial sums of squares: non-negative. */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            double[] x = super.input(b, length, n, r);
            for (int i = 0; i < length; i++) {
                x[i] = Math.abs(x[i]);
            }
            return x;
        }

        /** A float32 sum of at most 64 non-negative partials: relative gamma(63) ~ 3.8e-6, halved by the sqrt, plus 3 roundings. */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Elementwise(Tolerance.ATOL, 2.5e-6, "a float32 sum of at most 64 non-negative partials,"
                    + " then sqrt: gamma(63) / 2 + 3u");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("1 part, clipped", r, new int[] {1}, 0.1), sample("64 parts, clipped", r, new int[] {64}, 0.5),
                    sample("16 parts, not clipped", r, new int[] {16}, 1e3), sample("7 parts", r, new int[] {7}, 1.0));
        }
    };

    public static final List<Op> ALL = List.of(SGD_UPDATE, ADAM_UPDATE, CLIP_SCALE);

    /**
     * {@code norm (1)} and {@code scale (1)} of gradient clipping at {@code maxNorm} from the
     * partial sums of squares {@code part} of {@link ReduceOps#sumSquares}.
     */
    public static OpCall clipScale(DeviceBuffer part, double maxNorm, DeviceBuffer norm, DeviceBuffer scale) {
        return CLIP_SCALE.call(new DeviceBuffer[] {part, norm, scale}, new int[] {ElementwiseOps.count(part, "clip_scale: part")}, maxNorm);
    }

    // ---- calls ------------------------------------------------------------------------------

    private static int[] sgdInts(int n, SgdStep s) {
        return new int[] {n, s.momentum() != 0 ? 1 : 0, s.nesterov() ? 1 : 0, 0};
    }

    private static double[] sgdReals(SgdStep s) {
        return new double[] {s.lr(), s.momentum(), s.weightDecay()};
    }

    private static double[] adamReals(AdamStep s) {
        return new double[] {s.beta1(), 1 - s.beta1(), s.beta2(), 1 - s.beta2(), s.eps(), s.weightDecay(),
            1 - s.lr() * s.weightDecay(), s.lr() / s.biasCorrection1(), Math.sqrt(s.biasCorrection2())};
    }

    /**
     * One SGD step over {@code w, g, velocity (N)}, N = {@code w.length()}; velocity is used only
     * when the momentum is not 0 (it may be null then). Skipped when {@code flag (1)} is non-finite.
     */
    public static OpCall sgd(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer flag) {
        return sgd(w, g, velocity, s, null, flag);
    }

    /**
     * As {@link #sgd(DeviceBuffer, DeviceBuffer, DeviceBuffer, SgdStep, DeviceBuffer)}, the gradient
     * multiplied by {@code gscale[0]} first when {@code gscale (1)} is not null (gradient clipping).
     */
    public static OpCall sgd(DeviceBuffer w, DeviceBuffer g, DeviceBuffer velocity, SgdStep s, DeviceBuffer gscale, DeviceBuffer flag) {
        int n = Math.toIntExact(w.length());
        int[] ints = sgdInts(n, s);
        ints[3] = gscale != null ? 1 : 0;
        return SGD_UPDATE.call(new DeviceBuffer[] {w, g, s.momentum() != 0 ? velocity : null, gscale, flag}, ints, sgdReals(s));
    }

    /**
     * Moves {@code call} (made by {@link #sgd}) to the hyperparameters of {@code s}, in place; the
     * momentum must stay 0 or non-zero and Nesterov as it was. Allocates nothing.
     */
    public static OpCall set(OpCall call, SgdStep s) {
        return set(call, s, true);
    }

    /**
     * As {@link #set(OpCall, SgdStep)}, with the step's weight decay when {@code decay} and none
     * otherwise (the parameters a decay policy exempts). Allocates nothing.
     */
    public static OpCall set(OpCall call, SgdStep s, boolean decay) {
        if (call.op() != SGD_UPDATE) {
            throw new IllegalArgumentException("not an sgd_update call: " + call.op());
        }
        if ((s.momentum() != 0) != (call.intArg(1) != 0) || s.nesterov() != (call.intArg(2) != 0)) {
            throw new IllegalArgumentException("sgd_update: a call made for " + (call.intArg(1) != 0 ? "" : "no ")
                    + "momentum, nesterov " + (call.intArg(2) != 0) + " cannot take " + s + "; make a new call");
        }
        return call.setReal(0, s.lr()).setReal(1, s.momentum()).setReal(2, decay ? s.weightDecay() : 0);
    }

    /** One Adam/AdamW step over {@code w, g, m, v (N)}, N = {@code w.length()}; skipped when {@code flag (1)} is non-finite. */
    public static OpCall adam(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer flag) {
        return adam(w, g, m, v, s, null, flag);
    }

    /**
     * As {@link #adam(DeviceBuffer, DeviceBuffer, DeviceBuffer, DeviceBuffer, AdamStep, DeviceBuffer)},
     * the gradient multiplied by {@code gscale[0]} first when {@code gscale (1)} is not null
     * (gradient clipping).
     */
    public static OpCall adam(DeviceBuffer w, DeviceBuffer g, DeviceBuffer m, DeviceBuffer v, AdamStep s, DeviceBuffer gscale,
                              DeviceBuffer flag) {
        int n = Math.toIntExact(w.length());
        return ADAM_UPDATE.call(new DeviceBuffer[] {w, g, m, v, gscale, flag}, new int[] {n, s.decoupled() ? 1 : 0, gscale != null ? 1 : 0},
                adamReals(s));
    }

    /**
     * Moves {@code call} (made by {@link #adam}) to the learning rate, step number and
     * hyperparameters of {@code s}, in place; Adam or AdamW must stay as it was. Allocates nothing.
     */
    public static OpCall set(OpCall call, AdamStep s) {
        return set(call, s, true);
    }

    /**
     * As {@link #set(OpCall, AdamStep)}, with the step's weight decay when {@code decay} and none
     * otherwise (the parameters a decay policy exempts). Allocates nothing.
     */
    public static OpCall set(OpCall call, AdamStep s, boolean decay) {
        double wd = decay ? s.weightDecay() : 0;
        if (call.op() != ADAM_UPDATE) {
            throw new IllegalArgumentException("not an adam_update call: " + call.op());
        }
        if (s.decoupled() != (call.intArg(1) != 0)) {
            throw new IllegalArgumentException("adam_update: a call made for " + (call.intArg(1) != 0 ? "AdamW" : "Adam")
                    + " cannot take " + s + "; make a new call");
        }
        return call.setReal(0, s.beta1()).setReal(1, 1 - s.beta1()).setReal(2, s.beta2()).setReal(3, 1 - s.beta2())
                .setReal(4, s.eps()).setReal(5, wd).setReal(6, 1 - s.lr() * wd)
                .setReal(7, s.lr() / s.biasCorrection1()).setReal(8, Math.sqrt(s.biasCorrection2()));
    }
}
