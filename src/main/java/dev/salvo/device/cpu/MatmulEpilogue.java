package dev.salvo.device.cpu;

import dev.salvo.device.Activation;

/**
 * {@link CpuDevice#matmul}'s epilogue over rows: {@code z += bias}, then {@code y = act(z)}. Row
 * {@code r} of a batch is row {@code r % m} of entry {@code r / m}, at {@code e * stride} in z and
 * y. One instance per device, its fields set before each {@link CpuPool#forRange} call.
 */
final class MatmulEpilogue implements CpuPool.RangeBody {
    int m;
    int n;
    long stride;
    float[] z;
    int zo;
    float[] bias;
    int bo;
    Activation act;
    float[] y;
    int yo;
    private final boolean simd;

    MatmulEpilogue(boolean simd) {
        this.simd = simd;
    }

    @Override
    public void run(int r0, int r1) {
        int n = this.n;
        float[] zv = z;
        float[] bv = bias;
        for (int r = r0; r < r1; r++) {
            int e = r / m;
            int within = (int) (e * stride) + (r - e * m) * n;
            int row = zo + within;
            if (bv != null) {
                for (int c = 0; c < n; c++) {
                    zv[row + c] += bv[bo + c];
                }
            }
            if (y != null) {
                ActivationCpu.activate(act, zv, row, y, yo + within, n, simd);
            }
        }
    }
}
