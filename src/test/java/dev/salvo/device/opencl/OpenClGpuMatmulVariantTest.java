package dev.salvo.device.opencl;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceContract;
import dev.salvo.kernel.TuningTable;

/**
 * The device contract on OpenCL device 0 built with the CUDA rows' launch shapes: the GPU matmul
 * variant ({@code matmul.local=2}, 128x128 blocks in two-stage local memory) and the CUDA work-group
 * sizes. The kernel source is shared, so PoCL checks the GPU variant's arithmetic, bounds and
 * barriers here on every build, where no GPU is at hand.
 */
class OpenClGpuMatmulVariantTest extends DeviceContract {

    @Override
    protected String selector() {
        return System.getProperty("salvo.test.opencl", "opencl:0");
    }

    @Override
    protected Device openDevice() {
        int index = Integer.parseInt(selector().substring(selector().indexOf(':') + 1));
        TuningTable.Tuning cuda = TuningTable.lookup("cuda-tuning.csv", "NVIDIA H100 80GB HBM3");
        return new OpenClProvider().openTuned(index, cuda.with("sum.wg", Math.min(cuda.sumWg(), 256)));
    }
}
