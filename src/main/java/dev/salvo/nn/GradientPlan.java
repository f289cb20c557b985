package dev.salvo.nn;

import dev.salvo.device.DeviceBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;

/**
 * Where each value's gradient lives, assigned by lifetime walking the graph backward: a value's
 * gradient is taken from a free list when its last consumer's backward runs and returned after its
 * own backward, so a chain needs two buffers. A view that is its input's only consumer passes its
 * gradient buffer down instead. Where a value feeds several layers, every consumer after the first
 * (in backward order) writes to a scratch buffer that the model then adds in ({@code accumulate}).
 *
 * @param grad       the gradient buffer of each vertex's output
 * @param dxTarget   where vertex {@code i} writes the gradient of its input {@code k} (null: the network input)
 * @param accumulate true where {@code dxTarget[i][k]} is a scratch buffer to add into the input's gradient
 * @param runsBackward true for a vertex with parameters at or below it: only those need a backward pass
 *                     (a random flip or a first pooling layer above the input has no gradient to pass on,
 *                     and a first convolution needs no input gradient)
 */
record GradientPlan(DeviceBuffer[] grad, DeviceBuffer[][] dxTarget, boolean[][] accumulate, boolean[] runsBackward) {

    /** Plans the first {@code active} vertices; {@code alloc} makes a buffer of that many floats. */
    static GradientPlan of(NetworkSpec spec, int active, int outVertex, int capacity, LongFunction<DeviceBuffer> alloc) {
        List<NetworkSpec.Vertex> vs = spec.vertices();
        int n = active;
        DeviceBuffer[] grad = new DeviceBuffer[n];
        DeviceBuffer[][] dxTarget = new DeviceBuffer[n][];
        boolean[][] accumulate = new boolean[n][];
        int[] consumers = new int[n];
        long widest = 1;
        for (int i = 0; i < n; i++) {
            for (int u : vs.get(i).inputs()) {
                if (u != NetworkSpec.INPUT) {
                    consumers[u]++;
                }
            }
            widest = Math.max(widest, vs.get(i).size());
        }
        long len = widest * capacity;
        ParamLayout params = ParamLayout.of(spec);
        boolean[] runs = new boolean[n];
        for (int i = 0; i < n; i++) {
            String prefix = vs.get(i).name() + ".";
            runs[i] = params.tensors().stream().anyMatch(t -> t.name().startsWith(prefix));
            for (int u : vs.get(i).inputs()) {
                runs[i] |= u != NetworkSpec.INPUT && runs[u];
            }
        }
        List<DeviceBuffer> free = new ArrayList<>();
        Map<DeviceBuffer, int[]> refs = new IdentityHashMap<>();
        DeviceBuffer[] scratch = new DeviceBuffer[2];
        grad[outVertex] = take(free, refs, len, alloc);
        for (int i = n - 1; i >= 0; i--) {
            NetworkSpec.Vertex v = vs.get(i);
            int[] in = v.inputs();
            dxTarget[i] = new DeviceBuffer[in.length];
            accumulate[i] = new boolean[in.length];
            if (!runs[i]) {
                continue;
            }
            if (grad[i] == null) {
                throw new IllegalStateException(v.label() + ": its output is not used by any layer or the loss");
            }
            for (int k = 0; k < in.length; k++) {
                int u = in[k];
                if (u == NetworkSpec.INPUT || !runs[u]) {
                    continue; // nothing below needs this gradient
                }
                if (grad[u] == null) {
                    if (v.layer().isView() && consumers[u] == 1) {
                        grad[u] = grad[i];
                        refs.get(grad[i])[0]++;
                    } else {
                        grad[u] = take(free, refs, len, alloc);
                    }
                    dxTarget[i][k] = grad[u];
                } else {
                    if (scratch[k] == null) {
                        scratch[k] = alloc.apply(len);
                    }
                    dxTarget[i][k] = scratch[k];
                    accumulate[i][k] = true;
                }
            }
            int[] r = refs.get(grad[i]);
            if (--r[0] == 0) {
                free.add(grad[i]);
            }
        }
        return new GradientPlan(grad, dxTarget, accumulate, runs);
    }

    private static DeviceBuffer take(List<DeviceBuffer> free, Map<DeviceBuffer, int[]> refs, long len,
                                     LongFunction<DeviceBuffer> alloc) {
        DeviceBuffer b = free.isEmpty() ? alloc.apply(len) : free.remove(free.size() - 1);
        refs.put(b, new int[] {1});
        return b;
    }
}
