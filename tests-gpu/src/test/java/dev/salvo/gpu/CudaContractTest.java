package dev.salvo.gpu;

import dev.salvo.device.DeviceContract;

/**
 * The device contract (every op against ReferenceOps, buffers, residency, determinism, training
 * consistency with the float64 reference) on CUDA device 0. Skipped with the reason when there is
 * no CUDA device, unless SALVO_REQUIRE lists cuda (the bundle's run script sets it).
 */
class CudaContractTest extends DeviceContract {

    @Override
    protected String selector() {
        return System.getProperty("salvo.test.cuda", "cuda:0");
    }
}
