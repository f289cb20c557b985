package dev.salvo.train;

import dev.salvo.data.Dataset;
import dev.salvo.device.Device;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import java.util.Arrays;

/**
 * Copies batches into a model's input buffers: gathers rows (in a given order) into host staging
 * arrays allocated once, then uploads features, labels and, under MSE, one-hot targets. Used by
 * training and evaluation alike.
 */
final class Batcher {

    private final Model model;
    private final Device device;
    private final int width;
    private final int classes;
    private final float[] x;
    private final int[] y;
    private final float[] t;

    Batcher(Model model) {
        this.model = model;
        this.device = model.device();
        this.width = model.spec().inputs();
        this.classes = model.spec().outputs();
        int batch = model.batchCapacity();
        x = new float[batch * width];
        y = new int[batch];
        t = model.spec().loss() == Loss.MSE ? new float[batch * classes] : null;
    }

    /** Rows {@code order[from .. from+n)} of {@code d} (rows {@code from..} when order is null) into the model. */
    void load(Dataset d, int[] order, int from, int n) {
        float[] features = d.features();
        for (int r = 0; r < n; r++) {
            int src = order == null ? from + r : order[from + r];
            System.arraycopy(features, src * width, x, r * width, width);
            y[r] = d.labels()[src];
        }
        device.upload(x, model.input().slice(0, (long) n * width));
        device.upload(y, model.labels().slice(0, n));
        if (t != null) {
            Arrays.fill(t, 0, n * classes, 0f);
            for (int r = 0; r < n; r++) {
                t[r * classes + y[r]] = 1f;
            }
            device.upload(t, model.targets().slice(0, (long) n * classes));
        }
    }

    /** Labels of the batch last loaded. */
    int label(int row) {
        return y[row];
    }
}
