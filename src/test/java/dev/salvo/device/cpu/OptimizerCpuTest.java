package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.salvo.device.AdamStep;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.ops.OptimizerOps;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Vector API Adam path computes exactly the scalar float formula (bitwise), tails included:
 * the same call on a CPU device with the Vector API and on one without, on slices at offsets that
 * are not multiples of any vector length, split over two pool ranges.
 */
class OptimizerCpuTest {

    private static float[] random(Random r, int n, boolean positive) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            float x = (float) r.nextGaussian();
            a[i] = positive ? x * x : x;
        }
        return a;
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void adamVectorEqualsScalar(boolean decoupled) {
        assumeTrue(CpuGemm.vectorApiAvailable(), "jdk.incubator.vector is not in this runtime");
        Random r = new Random(decoupled ? 11 : 12);
        int n = 40_000 + 13; // two pool ranges of 20006 and 20007 elements: not multiples of any vector length
        int[] offsets = {5, 3, 7, 2};
        float[][] host = {random(r, n + 5, false), random(r, n + 3, false), random(r, n + 7, false), random(r, n + 2, true)};
        AdamStep step = new AdamStep(3e-3, 0.9, 0.999, 1e-8, 0.01, decoupled, 7);
        float[][][] out = new float[2][][];
        for (int pass = 0; pass < 2; pass++) {
            try (CpuDevice d = CpuProvider.open(CpuSettings.load().withThreads(2).withSimd(pass == 0))) {
                DeviceBuffer[] b = new DeviceBuffer[4];
                for (int i = 0; i < 4; i++) {
                    b[i] = d.allocFloat(host[i].length);
                    d.upload(host[i], b[i]);
                }
                DeviceBuffer flag = d.allocFloat(1);
                d.upload(new float[] {0}, flag);
                d.run(OptimizerOps.adam(b[0].slice(offsets[0], n), b[1].slice(offsets[1], n), b[2].slice(offsets[2], n),
                        b[3].slice(offsets[3], n), step, flag));
                out[pass] = new float[4][];
                for (int i = 0; i < 4; i++) {
                    out[pass][i] = new float[host[i].length];
                    d.download(b[i], out[pass][i]);
                }
            }
        }
        assertFalse(Arrays.equals(host[0], out[0][0]), "the update ran");
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(out[1][i], out[0][i], "array " + i + ": the vector path differs from the scalar one");
        }
    }
}
