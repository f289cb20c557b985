package dev.salvo.device.cpu;

import dev.salvo.device.DeviceContract;

/** The device contract on the pure-Java CPU provider (Vector API matmul when available). */
class CpuDeviceContractTest extends DeviceContract {

    @Override
    protected String selector() {
        return "cpu";
    }
}
