package dev.salvo.device.cpu;

import dev.salvo.device.AdamStep;

/**
 * One Adam/AdamW step over {@code w, g, m, v}, a reusable pool body (no allocation per step). The
 * arithmetic is float32, as on the kernel devices:
 * <pre>
 *   AdamW: w *= 1 - lr*wd            Adam: d = g + wd*w   (AdamW: d = g)
 *   m = b1*m + (1-b1)*d;  v = b2*v + (1-b2)*d*d
 *   w -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * with the per-step constants rounded to float once. The Vector API path ({@link VectorAdam}) and
 * {@link #scalar} compute the same operations in the same order.
 */
final class AdamRange implements CpuPool.RangeBody {
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
    private final boolean simd;

    AdamRange(boolean simd) {
        this.simd = simd;
    }

    void set(AdamStep s) {
        decoupled = s.decoupled();
        decay = (float) (1.0 - s.lr() * s.weightDecay());
        wd = (float) s.weightDecay();
        b1 = (float) s.beta1();
        oneMinusB1 = (float) (1.0 - s.beta1());
        b2 = (float) s.beta2();
        oneMinusB2 = (float) (1.0 - s.beta2());
        stepSize = (float) (s.lr() / s.biasCorrection1());
        invSqrtBc2 = (float) (1.0 / Math.sqrt(s.biasCorrection2()));
        eps = (float) s.eps();
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
