package dev.salvo.device.ops;

import dev.salvo.device.Activation;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Op;
import dev.salvo.device.OpCall;
import dev.salvo.device.OpTolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Elementwise ops ({@code kernels/elementwise.kernel}): fill, scale, copy, the activations and the
 * health check. One work-item per element, except the activations, which take {@code ew.vw}
 * adjacent elements per work-item ({@link Op.Launch#ewVw()}).
 *
 * <p>The activations follow {@link Activation}: NaN in gives NaN out, ReLU's backward is the
 * select {@code z <= 0 ? 0 : dy} (PyTorch's {@code threshold_backward}). The activation is the int
 * argument {@code act}, its {@link Activation#ordinal()}.
 */
public final class ElementwiseOps {

    private ElementwiseOps() {
    }

    private static final Activation[] ACTIVATIONS = Activation.values();

    /** The element count of a buffer as the kernels' 32-bit int. */
    static int count(DeviceBuffer b, String name) {
        long n = b.length();
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(name + " holds " + n + " elements, more than the kernels' 32-bit indices reach");
        }
        return (int) n;
    }

    /** An op over n elements: one work-item each. */
    private abstract static class PerElement extends Op {
        PerElement(String name, String signature) {
            super("elementwise", name, signature);
        }

        @Override
        public long work(int[] n) {
            return n[0];
        }
    }

    /** Uniform values in [-scale, scale). */
    static double[] uniform(int length, Random r, double scale) {
        double[] x = new double[length];
        for (int i = 0; i < length; i++) {
            x[i] = scale * (2 * r.nextDouble() - 1);
        }
        return x;
    }

    /**
     * Plants NaN, +inf and -inf throughout {@code x} (every 7th, 11th and 13th element from fixed
     * offsets, so vector bodies and tails alike get some) and makes the last element NaN (a partial
     * vector); returns {@code x}.
     */
    static double[] plantNonFinite(double[] x) {
        int n = x.length;
        for (int i = 0; i < n; i++) {
            if (i % 7 == 3) {
                x[i] = Double.NaN;
            } else if (i % 11 == 5) {
                x[i] = Double.POSITIVE_INFINITY;
            } else if (i % 13 == 6) {
                x[i] = Double.NEGATIVE_INFINITY;
            }
        }
        if (n > 0) {
            x[n - 1] = Double.NaN;
        }
        return x;
    }

    /**
     * An output poison that no op computes: where a sample expects NaN, an element left unwritten
     * must not pass for one.
     */
    static final double UNWRITTEN = 7777;

    /** {@code x (n) <- v}. */
    public static final Op FILL = new PerElement("fill", "int n, out x, real v") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            Arrays.fill(a.f[0], a.off[0], a.off[0] + a.n[0], a.r[0]);
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a store of v rounded to float32");
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("n=1, v=2.5", r, new int[] {1}, 2.5),
                    sample("n=1037, v=" + (float) -0.3, r, new int[] {1037}, (float) -0.3),
                    sample("n=777, v=NaN", r, new int[] {777}, Double.NaN),
                    sample("n=0", r, new int[] {0}, 1));
        }
    };

    /** {@code x (n) <- a x}, in place. */
    public static final Op SCALE = new PerElement("scale", "int n, inout x, real a") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            for (int k = 0; k < a.n[0]; k++) {
                a.f[0][a.off[0] + k] *= a.r[0];
            }
        }

        /** The samples' factors are float32 values: the product of two floats is exact in float64. */
        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("one float32 product, correctly rounded");
        }

        @Override
        public double flops(int[] n) {
            return n[0];
        }

        @Override
        public List<Sample> samples(Random r) {
            return List.of(sample("n=1, a=-0.5", r, new int[] {1}, -0.5),
                    sample("n=1037", r, new int[] {1037}, (float) (4 * r.nextDouble() - 2)),
                    sample("n=100, a=0", r, new int[] {100}, 0),
                    sample("n=0", r, new int[] {0}, 3));
        }
    };

    /** {@code d (n) <- s (n)}. */
    public static final Op COPY = new PerElement("copy_f", "int n, in s, out d") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            System.arraycopy(a.f[0], a.off[0], a.f[1], a.off[1], a.n[0]);
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("a copy");
        }

        @Override
        public List<Sample> samples(Random r) {
            Sample nonFinite = sample("n=301, NaN/inf", r, new int[] {301});
            plantNonFinite((double[]) nonFinite.data()[0]);
            Arrays.fill((double[]) nonFinite.data()[1], UNWRITTEN);
            return List.of(sample("n=1", r, new int[] {1}), sample("n=1037", r, new int[] {1037}), nonFinite,
                    sample("n=0", r, new int[] {0}));
        }
    };

    /** Base of the activations: ints {@code n, act}; {@code ew.vw} elements per work-item. */
    private abstract static class Act extends PerElement {
        Act(String name, String signature) {
            super(name, signature);
        }

        @Override
        public void validate(int[] n, double[] r) {
            super.validate(n, r);
            if (n[1] < 0 || n[1] >= ACTIVATIONS.length) {
                throw new IllegalArgumentException(name() + ": act must be an Activation ordinal in [0, " + ACTIVATIONS.length
                        + "), got " + n[1]);
            }
        }

        static Activation activation(int[] n) {
            return ACTIVATIONS[n[1]];
        }

        @Override
        public long[] global(int[] n, Launch t) {
            return new long[] {(n[0] + (long) t.ewVw() - 1) / t.ewVw()};
        }

        /** The pre-activation spans [-6, 6) (saturating sigmoid and tanh), the gradient [-2, 2). */
        @Override
        public double[] input(int b, int length, int[] n, Random r) {
            return uniform(length, r, b == 0 ? 6 : 2);
        }

        /**
         * For every activation: 1 element, 1237 (not a multiple of any vector width), 0, and 1237
         * with NaN and infinities planted (outputs poisoned with a finite value, so an unwritten
         * element cannot pass for an expected NaN).
         */
        @Override
        public List<Sample> samples(Random r) {
            List<Sample> s = new ArrayList<>();
            for (Activation act : ACTIVATIONS) {
                int k = act.ordinal();
                s.add(sample(act.cliName() + ", n=1", r, new int[] {1, k}));
                s.add(sample(act.cliName() + ", n=1237", r, new int[] {1237, k}));
                s.add(sample(act.cliName() + ", n=0", r, new int[] {0, k}));
                Sample bad = sample(act.cliName() + ", n=1237, NaN/inf", r, new int[] {1237, k});
                nonFinite(bad);
                s.add(bad);
            }
            return s;
        }

        /** Plants non-finite values into the sample's inputs and poisons its output with {@link #UNWRITTEN}. */
        abstract void nonFinite(Sample s);
    }

    /** {@code y (n) <- act(x)}; y may be x. */
    public static final Op ACT_FORWARD = new Act("act_forward", "int n, int act, in x, out y") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            Activation act = activation(a.n);
            for (int k = 0; k < a.n[0]; k++) {
                a.f[1][a.off[1] + k] = act.apply(a.f[0][a.off[0] + k]);
            }
        }

        @Override
        void nonFinite(Sample s) {
            ElementwiseOps.plantNonFinite((double[]) s.data()[0]);
            Arrays.fill((double[]) s.data()[1], UNWRITTEN);
        }
    };

    /**
     * {@code dz (n) <- dy * act'(z)} with z the pre-activation ({@link Activation#backward}: a
     * select for ReLU); dz may be dy.
     */
    public static final Op ACT_BACKWARD = new Act("act_backward", "int n, int act, in z, in dy, out dz") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], n[0], n[0]};
        }

        @Override
        public void reference(RefArgs a) {
            Activation act = activation(a.n);
            for (int k = 0; k < a.n[0]; k++) {
                a.f[2][a.off[2] + k] = act.backward(a.f[0][a.off[0] + k], a.f[1][a.off[1] + k]);
            }
        }

        /** z as the forward's, and every 5th gradient +inf or NaN (ReLU's select must pass them or give 0). */
        @Override
        void nonFinite(Sample s) {
            ElementwiseOps.plantNonFinite((double[]) s.data()[0]);
            double[] dy = (double[]) s.data()[1];
            for (int i = 0; i < dy.length; i += 5) {
                dy[i] = i % 3 == 0 ? Double.POSITIVE_INFINITY : Double.NaN;
            }
            Arrays.fill((double[]) s.data()[2], UNWRITTEN);
        }
    };

    /**
     * Health check: {@code flag (1) <- NaN} when any element of {@code x (n)} is NaN or infinite;
     * otherwise flag is left as it was.
     */
    public static final Op CHECK_FINITE = new PerElement("check_finite", "int n, in x, inout flag") {
        @Override
        public long[] lengths(int[] n) {
            return new long[] {n[0], 1};
        }

        @Override
        public void reference(RefArgs a) {
            for (int k = 0; k < a.n[0]; k++) {
                if (!Double.isFinite(a.f[0][a.off[0] + k])) {
                    a.f[1][a.off[1]] = Double.NaN;
                    return;
                }
            }
        }

        @Override
        public OpTolerance tolerance() {
            return new OpTolerance.Exact("the flag is kept or set to NaN");
        }

        /** Finite inputs (flag kept), +inf at the end, -inf inside, a flag that is NaN already; NaN comes from the NaN runs. */
        @Override
        public List<Sample> samples(Random r) {
            Sample inf = sample("n=5000, +inf last", r, new int[] {5000});
            ((double[]) inf.data()[0])[4999] = Double.POSITIVE_INFINITY;
            Sample negInf = sample("n=1037, -inf", r, new int[] {1037});
            ((double[]) negInf.data()[0])[r.nextInt(1037)] = Double.NEGATIVE_INFINITY;
            Sample set = sample("n=100, flag NaN already", r, new int[] {100});
            ((double[]) set.data()[1])[0] = Double.NaN;
            return List.of(sample("n=1", r, new int[] {1}), sample("n=5000", r, new int[] {5000}), inf, negInf, set,
                    sample("n=0", r, new int[] {0}));
        }
    };

    public static final List<Op> ALL = List.of(FILL, SCALE, COPY, ACT_FORWARD, ACT_BACKWARD, CHECK_FINITE);

    // ---- calls ------------------------------------------------------------------------------

    /** {@code x <- value} over all of x. */
    public static OpCall fill(DeviceBuffer x, double value) {
        return FILL.call(new DeviceBuffer[] {x}, new int[] {count(x, "fill: x")}, value);
    }

    /** {@code x <- alpha x} over all of x. */
    public static OpCall scale(DeviceBuffer x, double alpha) {
        return SCALE.call(new DeviceBuffer[] {x}, new int[] {count(x, "scale: x")}, alpha);
    }

    /** {@code dst <- src}: all of src, into the first {@code src.length()} elements of dst. */
    public static OpCall copy(DeviceBuffer src, DeviceBuffer dst) {
        return COPY.call(new DeviceBuffer[] {src, dst}, new int[] {count(src, "copy: src")});
    }

    /** {@code y <- act(x)} over all of x; y may be x. */
    public static OpCall activationForward(Activation act, DeviceBuffer x, DeviceBuffer y) {
        return ACT_FORWARD.call(new DeviceBuffer[] {x, y}, new int[] {count(x, "act_forward: x"), act.ordinal()});
    }

    /** {@code dz <- dy * act'(z)} over all of z; dz may be dy. */
    public static OpCall activationBackward(Activation act, DeviceBuffer z, DeviceBuffer dy, DeviceBuffer dz) {
        return ACT_BACKWARD.call(new DeviceBuffer[] {z, dy, dz}, new int[] {count(z, "act_backward: z"), act.ordinal()});
    }

    /** {@code flag (1) <- NaN} when any element of x is not finite; otherwise flag is untouched. */
    public static OpCall checkFinite(DeviceBuffer x, DeviceBuffer flag) {
        return CHECK_FINITE.call(new DeviceBuffer[] {x, flag}, new int[] {count(x, "check_finite: x")});
    }
}
