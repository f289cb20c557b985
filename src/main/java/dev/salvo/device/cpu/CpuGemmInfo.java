package dev.salvo.device.cpu;

/** Vector facts that are safe to ask without loading the Vector API when it is absent. */
final class CpuGemmInfo {

    private CpuGemmInfo() {
    }

    static int lanes() {
        if (!CpuGemm.vectorApiAvailable()) {
            return 1;
        }
        return jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }
}
