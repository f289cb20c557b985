package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.ops.PoolOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Max pooling's 2x2 stride-2 path against the generic window loop (written out here in float32),
 * bit for bit: windows full of ties, signed zeros, infinities and NaNs (with payloads), odd image
 * sizes, one and two threads.
 */
class PoolCpuTest {

    private static final float[] SPECIAL = {
            Float.NaN, Float.intBitsToFloat(0xffc00001), Float.intBitsToFloat(0x7f800001), -0f, 0f,
            Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, 1f, -1f, Float.MIN_VALUE, -Float.MAX_VALUE,
    };

    /** The generic loop of {@code PoolCpu.maxForward}: the first maximum, the first NaN wins. */
    private static void expectForward(float[] x, int planes, int h, int w, int oh, int ow, float[] y, int[] idx) {
        for (int plane = 0; plane < planes; plane++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float m = Float.NEGATIVE_INFINITY;
                    int at = 2 * oy * w + 2 * ox;
                    for (int iy = 2 * oy; iy < 2 * oy + 2; iy++) {
                        for (int ix = 2 * ox; ix < 2 * ox + 2; ix++) {
                            float v = x[plane * h * w + iy * w + ix];
                            if (v > m || (v != v && m == m)) {
                                m = v;
                                at = iy * w + ix;
                            }
                        }
                    }
                    y[(plane * oh + oy) * ow + ox] = m;
                    idx[(plane * oh + oy) * ow + ox] = at;
                }
            }
        }
    }

    @Test
    void pairPathMatchesTheGenericLoopBitForBit() {
        SplittableRandom r = new SplittableRandom(11);
        for (int threads : new int[] {1, 2}) {
            try (Device dev = CpuProvider.open(CpuSettings.load().withThreads(threads))) {
                for (int[] shape : new int[][] {{3, 2, 7, 5}, {2, 3, 8, 8}, {64, 3, 28, 28}, {1, 1, 2, 2}, {5, 4, 3, 9}}) {
                    int batch = shape[0];
                    int c = shape[1];
                    int h = shape[2];
                    int w = shape[3];
                    int oh = h / 2;
                    int ow = w / 2;
                    int planes = batch * c;
                    int n = planes * h * w;
                    int m = planes * oh * ow;
                    float[] x = new float[n];
                    for (int i = 0; i < n; i++) {
                        // few distinct values: many ties inside windows
                        x[i] = r.nextInt(4) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : r.nextInt(5) - 2;
                    }
                    float[] dy = new float[m];
                    for (int i = 0; i < m; i++) {
                        dy[i] = r.nextInt(6) == 0 ? SPECIAL[r.nextInt(SPECIAL.length)] : (float) r.nextDouble();
                    }
                    float[] ey = new float[m];
                    int[] eidx = new int[m];
                    expectForward(x, planes, h, w, oh, ow, ey, eidx);
                    float[] edx = new float[n];
                    for (int o = 0; o < m; o++) {
                        edx[(o / (oh * ow)) * h * w + eidx[o]] += dy[o];
                    }
                    int[] ints = {batch, c, h, w, 2, 2, 0, oh, ow};
                    try (DeviceBuffer xb = dev.allocFloat(n); DeviceBuffer yb = dev.allocFloat(m); DeviceBuffer ib = dev.allocInt(m);
                         DeviceBuffer db = dev.allocFloat(m); DeviceBuffer dxb = dev.allocFloat(n)) {
                        dev.upload(x, xb);
                        dev.upload(dy, db);
                        // repeated so that the bodies are also checked once compiled
                        for (int rep = 0; rep < 40; rep++) {
                            dev.run(PoolOps.MAXPOOL_FORWARD.call(new DeviceBuffer[] {xb, yb, ib}, ints));
                            dev.run(PoolOps.MAXPOOL_BACKWARD.call(new DeviceBuffer[] {db, ib, dxb}, ints));
                        }
                        float[] y = new float[m];
                        int[] idx = new int[m];
                        float[] dx = new float[n];
                        dev.download(yb, y);
                        dev.download(ib, idx);
                        dev.download(dxb, dx);
                        for (int o = 0; o < m; o++) {
                            assertEquals(eidx[o], idx[o], "idx " + o);
                            assertEquals(Float.floatToRawIntBits(ey[o]), Float.floatToRawIntBits(y[o]), "y " + o);
                        }
                        for (int i = 0; i < n; i++) {
                            assertEquals(Float.floatToRawIntBits(edx[i]), Float.floatToRawIntBits(dx[i]), "dx " + i);
                        }
                    }
                }
            }
        }
    }
}
