package dev.salvo.device;

/** Element type of a {@link DeviceBuffer}. Float buffers hold the provider's working precision
 * (float32 on real devices, float64 on the reference device); int buffers hold 32-bit integers. */
public enum DType {
    FLOAT,
    INT
}
