package dev.salvo.device;

/** What kind of hardware a device is; {@code auto} selection prefers GPUs and accelerators. */
public enum DeviceKind {
    GPU,
    ACCELERATOR,
    CPU,
    /** The float64 reference implementation: never picked by {@code auto}. */
    REFERENCE
}
