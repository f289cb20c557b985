package dev.salvo.device.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * ReLU forward and backward with the Vector API, for {@link ActivationCpu}. Loaded only when
 * {@code jdk.incubator.vector} is present (see {@link CpuGemm#vectorApiAvailable()}). A lane mask
 * {@code v <= 0} (false for NaN) selects zero, so the lanes compute exactly the scalar select:
 * {@code relu(NaN) = NaN}, {@code relu(-0) = +0}, and backward {@code z <= 0 ? +0 : dy}.
 */
final class VectorActivation {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorActivation() {
    }

    static void relu(float[] x, int xo, float[] y, int yo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int k = 0;
        int upper = S.loopBound(n);
        for (; k < upper; k += S.length()) {
            FloatVector v = FloatVector.fromArray(S, x, xo + k);
            VectorMask<Float> off = v.compare(VectorOperators.LE, 0f);
            v.blend(zero, off).intoArray(y, yo + k);
        }
        ActivationCpu.relu(x, xo + k, y, yo + k, n - k);
    }

    static void reluBackward(float[] z, int zo, float[] dy, int yo, float[] dz, int xo, int n) {
        FloatVector zero = FloatVector.zero(S);
        int k = 0;
        int upper = S.loopBound(n);
        for (; k < upper; k += S.length()) {
            VectorMask<Float> off = FloatVector.fromArray(S, z, zo + k).compare(VectorOperators.LE, 0f);
            FloatVector.fromArray(S, dy, yo + k).blend(zero, off).intoArray(dz, xo + k);
        }
        ActivationCpu.reluBackward(z, zo + k, dy, yo + k, dz, xo + k, n - k);
    }
}
