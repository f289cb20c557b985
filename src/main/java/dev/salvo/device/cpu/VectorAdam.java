package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Adam/AdamW update over a range in float32, with the Vector API. Loaded only when
 * {@code jdk.incubator.vector} is present (see {@link CpuGemm#vectorApiAvailable()}); lanes compute
 * exactly {@link OptimizerCpu.Adam#scalar}'s float formula (no fused multiply-add; IEEE sqrt and division
 * are correctly rounded per lane), so the vector and scalar paths agree bit for bit.
 */
final class VectorAdam {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorAdam() {
    }

    static void run(OptimizerCpu.Adam r, int from, int to) {
        int k = from;
        int upper = from + S.loopBound(to - from);
        FloatVector decay = FloatVector.broadcast(S, r.decay);
        FloatVector wd = FloatVector.broadcast(S, r.wd);
        FloatVector b1 = FloatVector.broadcast(S, r.b1);
        FloatVector c1 = FloatVector.broadcast(S, r.oneMinusB1);
        FloatVector b2 = FloatVector.broadcast(S, r.b2);
        FloatVector c2 = FloatVector.broadcast(S, r.oneMinusB2);
        FloatVector step = FloatVector.broadcast(S, r.stepSize);
        FloatVector inv = FloatVector.broadcast(S, r.invSqrtBc2);
        FloatVector eps = FloatVector.broadcast(S, r.eps);
        FloatVector gs = FloatVector.broadcast(S, r.gs);
        for (; k < upper; k += S.length()) {
            FloatVector w = FloatVector.fromArray(S, r.w, r.wo + k);
            FloatVector d = FloatVector.fromArray(S, r.g, r.go + k);
            if (r.hasScale) {
                d = d.mul(gs);
            }
            if (r.decoupled) {
                w = w.mul(decay);
            } else {
                d = d.add(wd.mul(w));
            }
            FloatVector m = b1.mul(FloatVector.fromArray(S, r.m, r.mo + k)).add(c1.mul(d));
            FloatVector v = b2.mul(FloatVector.fromArray(S, r.v, r.vo + k)).add(c2.mul(d.mul(d)));
            m.intoArray(r.m, r.mo + k);
            v.intoArray(r.v, r.vo + k);
            FloatVector denom = v.lanewise(VectorOperators.SQRT).mul(inv).add(eps);
            w.sub(step.mul(m).div(denom)).intoArray(r.w, r.wo + k);
        }
        r.scalar(k, to);
    }
}
