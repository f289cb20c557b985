package dev.salvo.device.cpu;

/**
 * CPU bodies of {@code kernels/optimizer.kernel} ({@link dev.salvo.device.ops.OptimizerOps}):
 * one step over the flat parameter buffer, split in ranges on the pool, skipped entirely while
 * the health flag is not finite. Each body is made once per device and keeps its per-call
 * arguments in fields, so a step allocates nothing.
 */
final class OptimizerCpu implements CpuOps.Family {

    /** Elements per task below which an update stays on one thread. */
    private static final int GRAIN = 1 << 14;

    @Override
    public CpuOps.Body body(String name, CpuPool pool) {
        return body(name, pool, false);
    }

    @Override
    public CpuOps.Body body(String name, CpuPool pool, boolean simd) {
        return switch (name) {
            case "sgd_update" -> new Sgd(pool);
            case "adam_update" -> new Adam(pool, simd);
            case "clip_scale" -> new ClipScale();
            default -> null;
        };
    }

    private static boolean skip(CpuOps.Args a, int flag) {
        return !Float.isFinite(a.f[flag][a.off[flag]]);
    }

    /** The gradient scale {@code gscale[0]} (buffer {@code slot}) when {@code hasScale}, else 1. */
    private static float scale(CpuOps.Args a, int hasScale, int slot) {
        return hasScale != 0 ? a.f[slot][a.off[slot]] : 1f;
    }

    /** norm = sqrt of the float64 sum of the parts in order; scale = min(1, maxNorm / (norm + 1e-6)) in float32, NaN kept. */
    static final class ClipScale implements CpuOps.Body {
        @Override
        public void run(CpuOps.Args a) {
            double s = 0;
            for (int p = 0; p < a.n[0]; p++) {
                s += a.f[0][a.off[0] + p];
            }
            float norm = (float) Math.sqrt(s);
            float c = (float) a.r[0] / (norm + 1e-6f);
            a.f[1][a.off[1]] = norm;
            a.f[2][a.off[2]] = c >= 1f ? 1f : c;
        }
    }

    /**
     * SGD (momentum, Nesterov, L2 weight decay) over {@code w, g, v}: float64 arithmetic rounded
     * once per stored value. Buffers w, g, v (optional), gscale (optional), flag; ints n, hasV,
     * nesterov, hasScale; reals lr, momentum, weightDecay. With hasScale the gradient is multiplied
     * by gscale[0] in float32 first.
     */
    static final class Sgd implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        float[] w;
        int wo;
        float[] g;
        int go;
        float[] v;
        int vo;
        double lr;
        double mu;
        double wd;
        boolean nesterov;
        boolean hasScale;
        float gs;

        Sgd(CpuPool pool) {
            this.pool = pool;
        }

        @Override
        public void run(CpuOps.Args a) {
            if (skip(a, 4)) {
                return;
            }
            hasScale = a.n[3] != 0;
            gs = scale(a, a.n[3], 3);
            w = a.f[0];
            wo = a.off[0];
            g = a.f[1];
            go = a.off[1];
            boolean hasV = a.n[1] != 0;
            v = hasV ? a.f[2] : null;
            vo = hasV ? a.off[2] : 0;
            lr = a.r[0];
            mu = a.r[1];
            wd = a.r[2];
            nesterov = a.n[2] != 0;
            try {
                pool.forRange(a.n[0], GRAIN, this);
            } finally {
                w = null;
                g = null;
                v = null;
            }
        }

        @Override
        public void run(int from, int to) {
            float[] wv = w;
            float[] gv = g;
            float[] vv = v;
            for (int k = from; k < to; k++) {
                int wi = wo + k;
                float gk = hasScale ? gv[go + k] * gs : gv[go + k];
                double d = gk + wd * wv[wi];
                if (vv != null) {
                    int vi = vo + k;
                    float nv = (float) (mu * vv[vi] + d);
                    vv[vi] = nv;
                    d = nesterov ? d + mu * nv : nv;
                }
                wv[wi] = (float) (wv[wi] - lr * d);
            }
        }
    }

    /**
     * One Adam/AdamW step over {@code w, g, m, v}. The arithmetic is float32, as on the kernel
     * devices:
     * <pre>
     *   AdamW: w *= 1 - lr*wd            Adam: d = g + wd*w   (AdamW: d = g)
     *   m = b1*m + (1-b1)*d;  v = b2*v + (1-b2)*d*d
     *   w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
     * </pre>
     * with the per-step constants (the call's float64 reals) rounded to float once, and the
     * division by {@code sqrt(1 - b2^t)} done as a multiplication by its rounded inverse. The
     * Vector API path ({@link VectorAdam}) and {@link #scalar} compute the same operations in the
     * same order. Buffers w, g, m, v, gscale (optional), flag; ints n, decoupled, hasScale (the
     * gradient multiplied by gscale[0] first); reals beta1, oneMinusBeta1, beta2,
     * oneMinusBeta2, eps, weightDecay, decay, stepSize, sqrtBc2.
     */
    static final class Adam implements CpuOps.Body, CpuPool.RangeBody {
        private final CpuPool pool;
        private final boolean simd;
        float[] w;
        int wo;
        float[] g;
        int go;
        float[] m;
        int mo;
        float[] v;
        int vo;
        boolean decoupled;
        float decay;
        float wd;
        float b1;
        float oneMinusB1;
        float b2;
        float oneMinusB2;
        float stepSize;
        float invSqrtBc2;
        float eps;
        boolean hasScale;
        float gs;

        Adam(CpuPool pool, boolean simd) {
            this.pool = pool;
            this.simd = simd;
        }

        /** Sets the per-step constants from the call's reals and its {@code decoupled} flag. */
        void set(double[] r, boolean decoupled) {
            this.decoupled = decoupled;
            b1 = (float) r[0];
            oneMinusB1 = (float) r[1];
            b2 = (float) r[2];
            oneMinusB2 = (float) r[3];
            eps = (float) r[4];
            wd = (float) r[5];
            decay = (float) r[6];
            stepSize = (float) r[7];
            invSqrtBc2 = (float) (1.0 / r[8]);
        }

        @Override
        public void run(CpuOps.Args a) {
            if (skip(a, 5)) {
                return;
            }
            hasScale = a.n[2] != 0;
            gs = scale(a, a.n[2], 4);
            w = a.f[0];
            wo = a.off[0];
            g = a.f[1];
            go = a.off[1];
            m = a.f[2];
            mo = a.off[2];
            v = a.f[3];
            vo = a.off[3];
            set(a.r, a.n[1] != 0);
            try {
                pool.forRange(a.n[0], GRAIN, this);
            } finally {
                w = null;
                g = null;
                m = null;
                v = null;
            }
        }

        @Override
        public void run(int from, int to) {
            if (simd) {
                VectorAdam.run(this, from, to);
            } else {
                scalar(from, to);
            }
        }

        void scalar(int from, int to) {
            for (int k = from; k < to; k++) {
                float wv = w[wo + k];
                float d = g[go + k];
                if (hasScale) {
                    d = d * gs;
                }
                if (decoupled) {
                    wv = wv * decay;
                } else {
                    d = d + wd * wv;
                }
                float mv = b1 * m[mo + k] + oneMinusB1 * d;
                float vv = b2 * v[vo + k] + oneMinusB2 * (d * d);
                m[mo + k] = mv;
                v[vo + k] = vv;
                w[wo + k] = wv - stepSize * mv / ((float) Math.sqrt(vv) * invSqrtBc2 + eps);
            }
        }
    }
}
