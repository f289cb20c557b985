package dev.salvo.train;

import dev.salvo.device.AdamStep;
import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.device.OpCall;
import dev.salvo.device.SgdStep;
import dev.salvo.device.ops.OptimizerOps;
import dev.salvo.nn.DecayPolicy;
import dev.salvo.nn.Model;
import dev.salvo.nn.ParamLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@link Trainer}'s optimizer update, built once: the optimizer step, reused (its rate, and
 * Adam's step number, move every step), and the update calls over the parameters, gradients and
 * optimizer state (velocity or Adam's two moments, which the trainer allocates and owns). Allocates
 * nothing per step.
 */
final class OptimizerUpdate {

    private final Device device;
    /** The optimizer state buffers that are not null: velocity, or Adam's first and second moments. */
    private final List<DeviceBuffer> state = new ArrayList<>();
    /** The optimizer step, reused: its rate (and Adam's step number) move every step. */
    private final SgdStep sgdStep;
    private final AdamStep adamStep;
    /**
     * The updates, built once; {@link #run} moves their rate and step: one over all parameters,
     * or under {@link DecayPolicy#MATRICES} one per maximal run of tensors that are all decayed or
     * all not ({@code decays[k]}), each run's slices from its first tensor to the next run's.
     */
    private final OpCall[] updates;
    private final boolean[] decays;

    /**
     * The update of {@code model}'s parameters under {@code config}'s optimizer and decay policy
     * (the model's own when the configuration names none); {@code velocity} (SGD) or {@code m1}
     * and {@code m2} (Adam) are the state, the others null; {@code clipScale} (null: no clipping)
     * scales the gradients, and a non-finite {@code health} flag skips the update.
     */
    OptimizerUpdate(Model model, TrainConfig config, DeviceBuffer velocity, DeviceBuffer m1, DeviceBuffer m2,
                    DeviceBuffer clipScale, DeviceBuffer health) {
        this.device = model.device();
        for (DeviceBuffer b : new DeviceBuffer[] {velocity, m1, m2}) {
            if (b != null) {
                state.add(b);
            }
        }
        int n = model.layout().size();
        sgdStep = config.optimizer() instanceof Optimizer.Sgd sgd ? sgd.step(config.learningRate()) : null;
        adamStep = config.optimizer() instanceof Optimizer.Adam adam ? adam.step(config.learningRate(), 1) : null;
        DecayPolicy policy = config.decay() != null ? config.decay() : model.spec().decay();
        List<int[]> runs = decayRuns(model.layout(), policy); // {start, decayed}
        updates = new OpCall[runs.size()];
        decays = new boolean[runs.size()];
        for (int r = 0; r < runs.size(); r++) {
            int from = runs.get(r)[0];
            int to = r + 1 < runs.size() ? runs.get(r + 1)[0] : n;
            decays[r] = runs.get(r)[1] != 0;
            boolean whole = runs.size() == 1;
            DeviceBuffer w = whole ? model.parameters() : model.parameters().slice(from, to - from);
            DeviceBuffer g = whole ? model.gradients() : model.gradients().slice(from, to - from);
            updates[r] = sgdStep != null ? OptimizerOps.sgd(w, g, part(velocity, from, to, whole), sgdStep, clipScale, health)
                    : OptimizerOps.adam(w, g, part(m1, from, to, whole), part(m2, from, to, whole), adamStep, clipScale, health);
        }
    }

    /** {@code b}'s elements {@code [from, to)}, or {@code b} itself for the whole buffer; null stays null. */
    private static DeviceBuffer part(DeviceBuffer b, int from, int to, boolean whole) {
        return b == null || whole ? b : b.slice(from, to - from);
    }

    /**
     * The maximal runs of parameter tensors (layout order) that {@code policy} decays alike, as
     * {@code {first element, 1 if decayed}}; the first run starts at 0. One run when every tensor
     * is treated alike (always under {@link DecayPolicy#ALL}).
     */
    static List<int[]> decayRuns(ParamLayout layout, DecayPolicy policy) {
        List<int[]> runs = new ArrayList<>();
        for (ParamLayout.Tensor t : layout.tensors()) {
            boolean d = policy.decays(t.shape());
            if (runs.isEmpty()) {
                runs.add(new int[] {0, d ? 1 : 0});
            } else if ((runs.get(runs.size() - 1)[1] != 0) != d) {
                runs.add(new int[] {t.offset(), d ? 1 : 0});
            }
        }
        if (runs.isEmpty()) {
            runs.add(new int[] {0, 1});
        }
        return runs;
    }

    /** The optimizer state buffers, in checkpoint order: velocity, or Adam's first and second moments. */
    List<DeviceBuffer> state() {
        return state;
    }

    /** One optimizer step; {@code t} (1-based) is the global step, Adam's bias-correction count. */
    void run(double lr, long t) {
        SgdStep sgd = sgdStep != null ? sgdStep.withRate(lr) : null;
        AdamStep adam = sgdStep == null ? adamStep.at(lr, t) : null;
        for (int r = 0; r < updates.length; r++) {
            if (sgd != null) {
                OptimizerOps.set(updates[r], sgd, decays[r]);
            } else {
                OptimizerOps.set(updates[r], adam, decays[r]);
            }
            device.run(updates[r]);
        }
    }
}
