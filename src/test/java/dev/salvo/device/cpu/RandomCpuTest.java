package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.Philox;
import dev.salvo.device.ops.RandomOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The branch-free dropout body against the select it replaces, {@code x * (keep ? scale : 0)},
 * bit for bit: NaN, infinities and signed zeros in x (dropped -1 gives -0, dropped NaN and inf
 * give NaN), lengths with a partial last block, several p, one and two threads.
 */
class RandomCpuTest {

    @Test
    void dropoutMatchesTheSelectBitForBit() {
        SplittableRandom r = new SplittableRandom(5);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, 0f, -1f, 3f};
        for (int threads : new int[] {1, 2}) {
            try (Device dev = CpuProvider.open(CpuSettings.load().withThreads(threads))) {
                for (int n : new int[] {1, 7, 4096, 70001}) {
                    for (double p : new double[] {0, 0.25, 0.5, 0.9, 0.999999}) {
                        float[] x = new float[n];
                        for (int i = 0; i < n; i++) {
                            x[i] = r.nextInt(5) == 0 ? special[r.nextInt(special.length)] : (float) r.nextGaussian();
                        }
                        int seed0 = r.nextInt();
                        int seed1 = r.nextInt();
                        int step = r.nextInt(1000);
                        float pf = (float) p;
                        float scale = 1.0f / (1.0f - pf);
                        float[] expect = new float[n];
                        int[] w = new int[4];
                        for (int i = 0; i < n; i++) {
                            if ((i & 3) == 0) {
                                Philox.block(seed0, seed1, i >>> 2, step, 0, 0, w, 0);
                            }
                            expect[i] = x[i] * (Philox.keep(w, 0, i, pf) ? scale : 0.0f);
                        }
                        try (DeviceBuffer xb = dev.allocFloat(n); DeviceBuffer yb = dev.allocFloat(n)) {
                            dev.upload(x, xb);
                            for (int rep = 0; rep < (n > 10000 ? 20 : 1); rep++) {
                                dev.run(RandomOps.DROPOUT_FORWARD.call(new DeviceBuffer[] {xb, yb}, new int[] {n, seed0, seed1, step, 0}, p));
                            }
                            float[] y = new float[n];
                            dev.download(yb, y);
                            for (int i = 0; i < n; i++) {
                                assertEquals(Float.floatToRawIntBits(expect[i]), Float.floatToRawIntBits(y[i]),
                                        "n=" + n + " p=" + p + " i=" + i + " x=" + x[i]);
                            }
                        }
                    }
                }
            }
        }
    }
}
