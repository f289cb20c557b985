package dev.salvo.device;

/**
 * A snapshot of a device's transfer and launch counters. Devices count every byte that crosses
 * between host and device and every kernel launch; the residency tests and {@code salvo bench}
 * read them. {@link #minus(Counters)} gives the traffic of an interval.
 *
 * @param bytesToDevice   bytes copied host to device
 * @param bytesToHost     bytes copied device to host
 * @param launches        kernel launches (one per op call on the CPU provider)
 * @param allocations     buffers allocated so far
 * @param liveBuffers     allocations not yet freed
 * @param liveBytes       bytes held by live allocations
 */
public record Counters(long bytesToDevice, long bytesToHost, long launches, long allocations,
                       long liveBuffers, long liveBytes) {

    public Counters minus(Counters before) {
        return new Counters(bytesToDevice - before.bytesToDevice, bytesToHost - before.bytesToHost,
                launches - before.launches, allocations - before.allocations,
                liveBuffers - before.liveBuffers, liveBytes - before.liveBytes);
    }
}
