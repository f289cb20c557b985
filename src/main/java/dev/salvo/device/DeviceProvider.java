package dev.salvo.device;

/**
 * A device provider: found with {@link java.util.ServiceLoader}, so a third party adds one with a
 * jar and a line in {@code META-INF/services/dev.salvo.device.DeviceProvider}.
 *
 * <p>Implementations must not load a native library in their constructor or static initialiser;
 * {@link #probe()} and {@link #open(int)} load it and turn {@link UnsatisfiedLinkError},
 * {@link NoClassDefFoundError} and driver errors into an unavailable {@link Probe} or a
 * {@link DeviceException.Unavailable}.
 */
public interface DeviceProvider {

    /** Short lower-case name used in {@code --device name[:index]}. */
    String name();

    /** Position in the {@code auto} order: lower comes first (cuda 10, opencl 20, cpu 100). */
    int priority();

    /** Looks for devices; never throws. The result may be cached by the provider. */
    Probe probe();

    /**
     * Opens device {@code index} of this provider.
     *
     * @throws DeviceException.Unavailable when the provider or that device cannot be used
     */
    Device open(int index);
}
