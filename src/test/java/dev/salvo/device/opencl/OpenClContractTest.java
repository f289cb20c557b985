package dev.salvo.device.opencl;

import dev.salvo.device.DeviceContract;

/**
 * The device contract on OpenCL device 0 (PoCL on a CPU in CI). Skipped with the reason when no
 * OpenCL platform is installed, unless SALVO_REQUIRE lists opencl.
 */
class OpenClContractTest extends DeviceContract {

    @Override
    protected String selector() {
        return System.getProperty("salvo.test.opencl", "opencl:0");
    }
}
