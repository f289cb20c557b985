package dev.salvo.device;

/**
 * Description of one device of a provider, as listed by {@code salvo devices}.
 *
 * @param provider     provider name ({@code cpu}, {@code opencl}, {@code cuda}, ...)
 * @param index        index within the provider, as used by {@code --device provider:index}
 * @param name         human-readable device name
 * @param kind         hardware kind
 * @param memoryBytes  device memory in bytes (for the CPU: the JVM's maximum heap)
 * @param computeUnits cores, compute units or streaming multiprocessors
 * @param details      provider-specific details (driver, version, precision), may be empty
 */
public record DeviceInfo(String provider, int index, String name, DeviceKind kind,
                         long memoryBytes, int computeUnits, String details) {

    /** The selector that picks this device, e.g. {@code opencl:1}. */
    public String id() {
        return provider + ":" + index;
    }
}
