package dev.salvo.device.opencl;

import dev.salvo.kernel.NativeConfig;
import dev.salvo.kernel.TuningTable;
import java.util.Properties;

/**
 * The OpenCL provider's build options ({@code native-config/opencl.properties}) and launch shapes
 * for one device from the tuning table {@code native-config/opencl-tuning.csv}.
 */
record OpenClSettings(String buildOptions, boolean cache, TuningTable.Tuning tuning) {

    static final String FILE = "opencl.properties";
    static final String TUNING = "opencl-tuning.csv";

    static OpenClSettings load(String deviceName) {
        return load(deviceName, null);
    }

    /** The settings with {@code tuning} in place of the table's row (when not null). */
    static OpenClSettings load(String deviceName, TuningTable.Tuning tuning) {
        Properties p = NativeConfig.load(FILE);
        TuningTable.Tuning t = tuning != null ? tuning : TuningTable.lookup(TUNING, deviceName);
        int tile = NativeConfig.intValue(p, FILE, "matmul.tile", t.tile(), 1);
        if (tile != t.tile()) {
            t = t.with("matmul.tile", tile).withRow(t.row() + " (matmul.tile " + tile + " from " + FILE + ")");
        }
        return new OpenClSettings(p.getProperty("build.options", "-cl-std=CL1.2").trim(),
                NativeConfig.boolValue(p, FILE, "cache", true), t);
    }

    String tuningRow() {
        return tuning.row();
    }
}
