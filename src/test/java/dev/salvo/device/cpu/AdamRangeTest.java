package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.salvo.device.AdamStep;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API Adam path computes exactly the scalar float formula (bitwise), tails included. */
class AdamRangeTest {

    private static float[] random(Random r, int n, boolean positive) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            float x = (float) r.nextGaussian();
            a[i] = positive ? x * x : x;
        }
        return a;
    }

    private static void check(boolean decoupled) {
        assumeTrue(CpuGemm.vectorApiAvailable(), "jdk.incubator.vector is not in this runtime");
        Random r = new Random(decoupled ? 11 : 12);
        int n = 1000 + 13; // not a multiple of any vector length
        float[] w = random(r, n + 5, false);
        float[] g = random(r, n + 3, false);
        float[] m = random(r, n + 7, false);
        float[] v = random(r, n + 2, true);
        float[][] vec = {w.clone(), g.clone(), m.clone(), v.clone()};
        float[][] sca = {w.clone(), g.clone(), m.clone(), v.clone()};
        AdamStep step = new AdamStep(3e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, 7);
        for (int pass = 0; pass < 2; pass++) {
            float[][] a = pass == 0 ? vec : sca;
            AdamRange body = new AdamRange(pass == 0);
            body.w = a[0];
            body.wo = 5;
            body.g = a[1];
            body.go = 3;
            body.m = a[2];
            body.mo = 7;
            body.v = a[3];
            body.vo = 2;
            body.set(step);
            body.run(0, 517); // two ranges, as two pool workers would run them
            body.run(517, n);
        }
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(sca[i], vec[i], "array " + i);
        }
    }

    @Test
    void adamWVectorEqualsScalar() {
        check(true);
    }

    @Test
    void adamVectorEqualsScalar() {
        check(false);
    }
}
