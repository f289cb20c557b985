package dev.salvo.device.opencl;

import dev.salvo.kernel.NativeConfig;
import dev.salvo.kernel.TuningTable;
import java.util.Properties;

/**
 * The OpenCL provider's build options ({@code native-config/opencl.properties}) and launch shapes
 * for one device from the tuning table {@code native-config/opencl-tuning.csv}.
 */
record OpenClSettings(String buildOptions, boolean cache, int tile, int wgElementwise, int wgRows, int sumWg,
                      String tuningRow) {

    static final String FILE = "opencl.properties";
    static final String TUNING = "opencl-tuning.csv";

    static OpenClSettings load(String deviceName) {
        Properties p = NativeConfig.load(FILE);
        TuningTable.Tuning t = TuningTable.lookup(TUNING, deviceName);
        return new OpenClSettings(p.getProperty("build.options", "-cl-std=CL1.2").trim(),
                NativeConfig.boolValue(p, FILE, "cache", true),
                NativeConfig.intValue(p, FILE, "matmul.tile", t.tile(), 1),
                t.wgElementwise(), t.wgRows(), t.sumWg(), t.row());
    }
}
