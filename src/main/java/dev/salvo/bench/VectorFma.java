package dev.salvo.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The loop of {@link FmaPeak}: {@link #CHAINS} independent chains of {@code FloatVector.fma} on the
 * preferred species (16 lanes with AVX-512, 8 with AVX2), enough in flight to cover the FMA latency
 * of two pipes. Loaded only when {@code jdk.incubator.vector} is present.
 */
final class VectorFma {

    static final int CHAINS = 12;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private VectorFma() {
    }

    static int lanes() {
        return S.length();
    }

    /** {@code iterations} rounds of {@link #CHAINS} FMAs; returns a sum of the results so nothing is optimised away. */
    static float run(long iterations, float seed) {
        FloatVector x = FloatVector.broadcast(S, 0.9999999f);
        FloatVector y = FloatVector.broadcast(S, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(S, seed);
        FloatVector a1 = FloatVector.broadcast(S, seed + 1);
        FloatVector a2 = FloatVector.broadcast(S, seed + 2);
        FloatVector a3 = FloatVector.broadcast(S, seed + 3);
        FloatVector a4 = FloatVector.broadcast(S, seed + 4);
        FloatVector a5 = FloatVector.broadcast(S, seed + 5);
        FloatVector a6 = FloatVector.broadcast(S, seed + 6);
        FloatVector a7 = FloatVector.broadcast(S, seed + 7);
        FloatVector a8 = FloatVector.broadcast(S, seed + 8);
        FloatVector a9 = FloatVector.broadcast(S, seed + 9);
        FloatVector a10 = FloatVector.broadcast(S, seed + 10);
        FloatVector a11 = FloatVector.broadcast(S, seed + 11);
        for (long i = 0; i < iterations; i++) {
            a0 = a0.fma(x, y);
            a1 = a1.fma(x, y);
            a2 = a2.fma(x, y);
            a3 = a3.fma(x, y);
            a4 = a4.fma(x, y);
            a5 = a5.fma(x, y);
            a6 = a6.fma(x, y);
            a7 = a7.fma(x, y);
            a8 = a8.fma(x, y);
            a9 = a9.fma(x, y);
            a10 = a10.fma(x, y);
            a11 = a11.fma(x, y);
        }
        FloatVector s = a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11);
        return s.reduceLanes(VectorOperators.ADD);
    }
}
