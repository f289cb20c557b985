package dev.salvo.device.cpu;

import dev.salvo.device.Activation;
import java.util.Arrays;

/**
 * CPU bodies of {@code kernels/elementwise.kernel} ({@link dev.salvo.device.ops.ElementwiseOps}).
 * Fill and copy run on the calling thread; scale and the activations split the elements over the
 * pool (each element's result does not depend on the split); the activations run
 * {@link ActivationCpu}'s loops (the Vector API ReLU when the device uses it). The health check
 * takes {@link #CHUNKS} fixed chunks.
 */
final class ElementwiseCpu implements CpuOps.Family {

    /** Elements per task below which scale stays on one thread. */
    private static final int GRAIN = 1 << 14;

    /** Elements per task below which an activation stays on one thread. */
    private static final int ACT_GRAIN = 1 << 12;

    /** Chunks of the health check, whatever the thread count. */
    static final int CHUNKS = 16;

    private static final Activation[] ACTIVATIONS = Activation.values();

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return body(name, pool, false);
    }

    /** {@code simd}: ReLU forward and backward run on {@link VectorActivation}. */
    @Override
    public CpuOps.Body body(String name, CpuPool pool, boolean simd) {
        return switch (name) {
            case "fill" -> a -> Arrays.fill(a.f[0], a.off[0], a.off[0] + a.n[0], (float) a.r[0]);
            case "scale" -> new Scale(pool);
            case "copy_f" -> a -> System.arraycopy(a.f[0], a.off[0], a.f[1], a.off[1], a.n[0]);
            case "act_forward" -> new Forward(pool, simd);
            case "act_backward" -> new Backward(pool, simd);
            case "check_finite" -> new CheckFinite(pool);
            default -> null;
        };
    }

    /** x *= (float) a, in place. */
    private static final class Scale extends CpuOps.Ranged {
        Scale(CpuPool pool) {
            super(pool, GRAIN);
        }

        @Override
        public void run(int from, int to) {
            float[] x = a.f[0];
            int o = a.off[0];
            float s = (float) a.r[0];
            for (int k = o + from; k < o + to; k++) {
                x[k] *= s;
            }
        }
    }

    /** y = act(x). */
    private static final class Forward extends CpuOps.Ranged {
        private final boolean simd;

        Forward(CpuPool pool, boolean simd) {
            super(pool, ACT_GRAIN);
            this.simd = simd;
        }

        @Override
        public void run(int from, int to) {
            ActivationCpu.activate(ACTIVATIONS[a.n[1]], a.f[0], a.off[0] + from, a.f[1], a.off[1] + from, to - from, simd);
        }
    }

    /** dz = act.backward(z, dy) (ReLU: the select). */
    private static final class Backward extends CpuOps.Ranged {
        private final boolean simd;

        Backward(CpuPool pool, boolean simd) {
            super(pool, ACT_GRAIN);
            this.simd = simd;
        }

        @Override
        public void run(int from, int to) {
            ActivationCpu.backward(ACTIVATIONS[a.n[1]], a.f[0], a.off[0] + from, a.f[1], a.off[1] + from,
                    a.f[2], a.off[2] + from, to - from, simd);
        }
    }

    /**
     * flag = NaN when x holds a NaN or an infinity: {@link #CHUNKS} chunks (by length only), each
     * with its own verdict, read after all ran. Allocates nothing per call.
     */
    private static final class CheckFinite implements CpuOps.Body, CpuPool.Task {
        private final CpuPool pool;
        private final boolean[] bad = new boolean[CHUNKS];
        private CpuOps.Args a;

        CheckFinite(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args args) {
            a = args;
            try {
                pool.run(CHUNKS, this);
            } finally {
                a = null;
            }
            for (boolean b : bad) {
                if (b) {
                    args.f[1][args.off[1]] = Float.NaN;
                    return;
                }
            }
        }

        @Override
        public void run(int task, int worker) {
            int n = a.n[0];
            int xo = a.off[0];
            int from = CpuPool.bound(n, CHUNKS, task);
            int to = CpuPool.bound(n, CHUNKS, task + 1);
            float[] xv = a.f[0];
            // v - v is +0 for a finite v and NaN for NaN or infinity, and NaN survives addition:
            // four independent sums of v - v are all zero exactly when every value is finite
            float s0 = 0f;
            float s1 = 0f;
            float s2 = 0f;
            float s3 = 0f;
            int k = xo + from;
            int end = xo + to;
            for (; k + 3 < end; k += 4) {
                float v0 = xv[k];
                float v1 = xv[k + 1];
                float v2 = xv[k + 2];
                float v3 = xv[k + 3];
                s0 += v0 - v0;
                s1 += v1 - v1;
                s2 += v2 - v2;
                s3 += v3 - v3;
            }
            for (; k < end; k++) {
                s0 += xv[k] - xv[k];
            }
            bad[task] = !(s0 + s1 + s2 + s3 == 0f);
        }
    }
}
