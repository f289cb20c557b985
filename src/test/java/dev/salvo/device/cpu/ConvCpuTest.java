package dev.salvo.device.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.ops.ConvOps;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * col2im sums each pixel's column entries in kernel-offset (i, j) order, float32 from zero, bit for
 * bit, whatever the split (one and two threads, one and many channels, strides and padding).
 */
class ConvCpuTest {

    @Test
    void col2imSumsInKernelOffsetOrderBitForBit() {
        SplittableRandom r = new SplittableRandom(9);
        // batch, c, h, w, kh, kw, stride, pad
        int[][] shapes = {{3, 2, 7, 5, 3, 3, 1, 1}, {2, 3, 9, 8, 3, 3, 2, 0}, {2, 2, 7, 6, 5, 5, 1, 2}, {2, 2, 11, 10, 2, 4, 3, 1},
                {16, 1, 28, 28, 3, 3, 1, 1}, {8, 32, 14, 14, 3, 3, 1, 1}, {1, 1, 3, 3, 3, 3, 1, 1}};
        for (int threads : new int[] {1, 2}) {
            try (Device dev = CpuProvider.open(CpuSettings.load().withThreads(threads))) {
                for (int[] sh : shapes) {
                    int batch = sh[0], c = sh[1], h = sh[2], w = sh[3], kh = sh[4], kw = sh[5], s = sh[6], p = sh[7];
                    int oh = (h + 2 * p - kh) / s + 1;
                    int ow = (w + 2 * p - kw) / s + 1;
                    int cols = batch * oh * ow;
                    float[] col = new float[c * kh * kw * cols];
                    for (int i = 0; i < col.length; i++) {
                        col[i] = (float) r.nextGaussian() * (r.nextInt(4) == 0 ? 1e4f : 1f);
                    }
                    float[] expect = new float[batch * c * h * w];
                    for (int ci = 0; ci < c; ci++) {
                        for (int i = 0; i < kh; i++) {
                            for (int j = 0; j < kw; j++) {
                                for (int img = 0; img < batch; img++) {
                                    for (int oy = 0; oy < oh; oy++) {
                                        for (int ox = 0; ox < ow; ox++) {
                                            int iy = oy * s - p + i;
                                            int ix = ox * s - p + j;
                                            if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                                expect[((img * c + ci) * h + iy) * w + ix] +=
                                                        col[((ci * kh + i) * kw + j) * cols + (img * oh + oy) * ow + ox];
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    try (DeviceBuffer cb = dev.allocFloat(col.length); DeviceBuffer xb = dev.allocFloat(expect.length)) {
                        dev.upload(col, cb);
                        dev.run(ConvOps.COL2IM.call(new DeviceBuffer[] {cb, xb}, new int[] {batch, c, h, w, kh, kw, s, p, oh, ow}));
                        float[] x = new float[expect.length];
                        dev.download(xb, x);
                        for (int i = 0; i < x.length; i++) {
                            assertEquals(Float.floatToRawIntBits(expect[i]), Float.floatToRawIntBits(x[i]),
                                    java.util.Arrays.toString(sh) + " threads " + threads + " pixel " + i);
                        }
                    }
                }
            }
        }
    }
}
