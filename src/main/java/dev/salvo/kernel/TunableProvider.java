package dev.salvo.kernel;

/**
 * A provider whose devices run the shared kernels with tunables from a tuning table, and can be
 * opened with tunables of the caller's choosing ({@code salvo tune} times candidates that way).
 */
public interface TunableProvider {

    /** The native-config tuning table of this provider, e.g. {@code opencl-tuning.csv}. */
    String tuningFile();

    /**
     * Opens device {@code index} with every kernel built from {@code tuning} instead of the table's
     * row. Throws {@link IllegalArgumentException} when the device cannot launch that shape (for
     * example a work-group larger than it allows).
     */
    KernelDevice openTuned(int index, TuningTable.Tuning tuning);
}
