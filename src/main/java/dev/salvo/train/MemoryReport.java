package dev.salvo.train;

import dev.salvo.nn.Model;
import dev.salvo.nn.ModelMemory;
import java.util.Locale;

/** The one-line report of the device memory a training holds, by use: {@link Trainer#memoryLine()}. */
final class MemoryReport {

    private MemoryReport() {
    }

    /**
     * {@code memory: <total> on the device = parameters ..., gradients ..., optimizer state ...,
     * activations ..., activation gradients ..., workspace ..., batch ...}: {@code model}'s memory
     * by kind, with {@code optimizerStateBytes} for the optimizer state.
     */
    static String line(Model model, long optimizerStateBytes) {
        long[] b = {
            model.memoryBytes(ModelMemory.PARAMETERS), model.memoryBytes(ModelMemory.GRADIENTS), optimizerStateBytes,
            model.memoryBytes(ModelMemory.ACTIVATIONS), model.memoryBytes(ModelMemory.ACTIVATION_GRADIENTS),
            model.memoryBytes(ModelMemory.WORKSPACE), model.memoryBytes(ModelMemory.BATCH)};
        String[] names = {"parameters", "gradients", "optimizer state", "activations", "activation gradients", "workspace", "batch"};
        long total = 0;
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < b.length; i++) {
            total += b[i];
            sb.append(i == 0 ? "" : ", ").append(names[i]).append(' ').append(bytes(b[i]));
        }
        return "memory: " + bytes(total) + " on the device = " + sb;
    }

    private static String bytes(long b) {
        return b < 1024 * 1024 ? String.format(Locale.ROOT, "%.1f KiB", b / 1024.0)
                : String.format(Locale.ROOT, "%.1f MiB", b / 1048576.0);
    }
}
