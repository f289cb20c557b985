package dev.salvo.device.cpu;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceContract;

/** The device contract on the CPU provider with the Vector API switched off and one thread. */
class CpuScalarContractTest extends DeviceContract {

    @Override
    protected String selector() {
        return "cpu";
    }

    @Override
    protected Device openDevice() {
        return CpuProvider.open(CpuSettings.load().withSimd(false).withThreads(1));
    }
}
