package dev.salvo.nn;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import java.util.List;

/**
 * Where the first non-finite value of a failed step appears ({@link Model#locateNonFinite}):
 * parameters, each layer's forward output, the loss, then each layer's gradients, replaying the
 * step and copying buffers to the host. A diagnostic, never on the training path.
 */
final class NonFiniteSearch {

    private NonFiniteSearch() {
    }

    static String locate(Model m, int rows) {
        ParamLayout layout = m.layout();
        float[] p = m.parametersToHost();
        for (ParamLayout.Tensor t : layout.tensors()) {
            for (int k = 0; k < t.length(); k++) {
                if (!Float.isFinite(p[t.offset() + k])) {
                    return "parameter " + t.name() + " is already non-finite";
                }
            }
        }
        List<NetworkSpec.Vertex> vs = m.spec().vertices();
        Device device = m.device();
        int active = m.activeVertices();
        for (int i = 0; i < active; i++) {
            m.forwardVertex(rows, i);
            if (!finite(device, m.buffer(i, false), (long) rows * vs.get(i).size())) {
                return describe(vs.get(i)) + " forward";
            }
        }
        m.loss(rows);
        if (!finite(device, m.rowLoss(), (long) rows * m.positions())) {
            return "the loss (" + m.spec().loss().cliName() + ") of finite outputs";
        }
        for (int i = active - 1; i >= 0; i--) {
            m.backwardVertex(rows, i);
            NetworkSpec.Vertex v = vs.get(i);
            for (ParamLayout.Tensor t : layout.tensors()) {
                if (t.name().startsWith(v.name() + ".") && !finite(device, m.gradients().slice(t.offset(), t.length()), t.length())) {
                    return describe(v) + " backward (gradient of " + t.name() + ")";
                }
            }
            for (int k = 0; k < v.inputs().length; k++) {
                int u = v.inputs()[k];
                if (u != NetworkSpec.INPUT && !finite(device, m.buffer(u, true), (long) rows * vs.get(u).size())) {
                    return describe(v) + " backward (input gradient)";
                }
            }
        }
        return "no layer: the values are finite when the step is replayed";
    }

    private static String describe(NetworkSpec.Vertex v) {
        return "layer " + v.index() + " (" + v.layer().describe() + ")";
    }

    private static boolean finite(Device device, DeviceBuffer b, long n) {
        float[] h = new float[(int) n];
        device.download(b.slice(0, n), h);
        for (float v : h) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }
}
