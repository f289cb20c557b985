package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The causal softmax rows of {@link AttentionCpu} in float32 with the Vector API (loaded only when
 * {@code jdk.incubator.vector} is present). The exponential is {@link VectorActivation#expNeg},
 * plain float32 arithmetic whose scalar form gives the lanes' bits, so a row's values never depend
 * on the JIT's state; the sums run in a fixed order (four interleaved partial sums added
 * pairwise), so a row's result depends on the row alone. Float32 stays within the ops' elementwise
 * bound: the arguments {@code scale s - m} are one fused multiply-add each, exp is about 1 ulp,
 * and a sum of at most T positive terms in four chains keeps the relative error near
 * {@code gamma(T / 4)}, far below the bound's {@code 1e-5} for probabilities at most 1.
 */
final class VectorSoftmax {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorSoftmax() {
    }

    /**
     * Row {@code i} of a causal softmax: {@code p[j] = exp(scale s[j] - m) / sum} for
     * {@code j <= i}, then 0 (NaN when the row is NaN) up to {@code t}.
     */
    static void row(float[] s, int so, float[] p, int po, int t, int i, float scale) {
        int len = i + 1;
        int upper = S.loopBound(len);
        int j = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (upper > 0) {
            FloatVector mv = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (; j < upper; j += S.length()) {
                mv = mv.max(FloatVector.fromArray(S, s, so + j).mul(scale));
            }
            m = mv.reduceLanes(VectorOperators.MAX); // max is exact: any order gives the same value
            if (Float.isNaN(m) == false && mv.test(VectorOperators.IS_NAN).anyTrue()) {
                m = Float.NaN;
            }
        }
        for (; j < len; j++) {
            m = Math.max(m, s[so + j] * scale);
        }
        FloatVector sv = FloatVector.broadcast(S, scale);
        FloatVector negM = FloatVector.broadcast(S, -m);
        for (j = 0; j < upper; j += S.length()) {
            VectorActivation.expNeg(sv.fma(FloatVector.fromArray(S, s, so + j), negM)).intoArray(p, po + j);
        }
        for (; j < len; j++) {
            p[po + j] = VectorActivation.expNeg(Math.fma(scale, s[so + j], -m));
        }
        float sum = sum(p, po, len);
        float inv = 1f / sum;
        FloatVector iv = FloatVector.broadcast(S, inv);
        for (j = 0; j < upper; j += S.length()) {
            FloatVector.fromArray(S, p, po + j).mul(iv).intoArray(p, po + j);
        }
        for (; j < len; j++) {
            p[po + j] *= inv;
        }
        java.util.Arrays.fill(p, po + len, po + t, Float.isNaN(sum) ? Float.NaN : 0f);
    }

    /** Row {@code i} of the backward: {@code ds[j] = scale p[j] (dp[j] - sum_k p[k] dp[k])} for {@code j <= i}, then 0. */
    static void backwardRow(float[] p, int po, float[] dp, int go, float[] ds, int so, int t, int i, float scale) {
        int len = i + 1;
        float d0 = 0;
        float d1 = 0;
        float d2 = 0;
        float d3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            d0 = Math.fma(p[po + k], dp[go + k], d0);
            d1 = Math.fma(p[po + k + 1], dp[go + k + 1], d1);
            d2 = Math.fma(p[po + k + 2], dp[go + k + 2], d2);
            d3 = Math.fma(p[po + k + 3], dp[go + k + 3], d3);
        }
        for (; k < len; k++) {
            d0 = Math.fma(p[po + k], dp[go + k], d0);
        }
        float dot = (d0 + d1) + (d2 + d3);
        int upper = S.loopBound(len);
        FloatVector sv = FloatVector.broadcast(S, scale);
        FloatVector dv = FloatVector.broadcast(S, dot);
        int j = 0;
        for (; j < upper; j += S.length()) {
            FloatVector pv = FloatVector.fromArray(S, p, po + j);
            sv.mul(pv).mul(FloatVector.fromArray(S, dp, go + j).sub(dv)).intoArray(ds, so + j);
        }
        for (; j < len; j++) {
            ds[so + j] = scale * p[po + j] * (dp[go + j] - dot);
        }
        java.util.Arrays.fill(ds, so + len, so + t, 0f);
    }

    /** The sum of {@code x[o..o+len)} in four interleaved float32 chains added pairwise (a fixed order). */
    private static float sum(float[] x, int o, int len) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int k = 0;
        for (; k + 3 < len; k += 4) {
            s0 += x[o + k];
            s1 += x[o + k + 1];
            s2 += x[o + k + 2];
            s3 += x[o + k + 3];
        }
        for (; k < len; k++) {
            s0 += x[o + k];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
