package dev.salvo.train;

import dev.salvo.device.Device;
import dev.salvo.device.DeviceBuffer;
import dev.salvo.nn.Model;
import dev.salvo.util.Rng;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * How a {@link Trainer}'s full state goes into a {@link Checkpoint.Snapshot} and the device part
 * of it comes back: the model's parameters and running statistics, the optimizer state and the
 * best parameters so far, beside the {@link Progress} and the shuffling RNG.
 */
final class TrainerCheckpoint {

    private TrainerCheckpoint() {
    }

    /**
     * The full training state: progress {@code p}, host RNG, {@code info}, and the device buffers
     * (the model's, {@code optimizerState} and {@code best}, may be null), copied to the host: an
     * explicit save.
     */
    static Checkpoint.Snapshot snapshot(Model model, TrainConfig config, Progress p, Rng shuffleRng,
                                        Map<String, String> info, List<DeviceBuffer> optimizerState, DeviceBuffer best) {
        Device device = model.device();
        List<float[]> state = new ArrayList<>();
        for (DeviceBuffer b : optimizerState) {
            float[] h = new float[(int) b.length()];
            device.download(b, h);
            state.add(h);
        }
        float[] bestHost = null;
        if (best != null) {
            bestHost = new float[(int) best.length()];
            device.download(best, bestHost);
        }
        return new Checkpoint.Snapshot(model.spec().describe(), config.seed(), config.batchSize(), p.epoch, p.stepInEpoch,
                p.step, p.samples, p.lr, p.lossSum, p.lossCount, p.epochSeconds, p.bestLoss, p.sinceBest, shuffleRng.state(),
                p.order.clone(), List.copyOf(p.history), List.copyOf(p.devices), info,
                model.parametersToHost(), state, bestHost, model.stateToHost());
    }

    /**
     * Checks that {@code s} was taken by this network, batch size, seed and optimizer, then loads
     * its parameters and running statistics into {@code model} and its optimizer state into
     * {@code state}.
     */
    static void load(Checkpoint.Snapshot s, Model model, TrainConfig config, List<DeviceBuffer> state) {
        if (!s.network().equals(model.spec().describe())) {
            throw new IllegalArgumentException("--resume: the checkpoint is of network " + s.network() + ", not "
                    + model.spec().describe());
        }
        if (s.batchSize() != config.batchSize()) {
            // its step counters and data position are counted in batches of its own size
            throw new IllegalArgumentException("--resume: the checkpoint was trained with --batch-size " + s.batchSize()
                    + ", not " + config.batchSize() + "; a run resumes with its own batch size");
        }
        if (s.seed() != config.seed()) {
            throw new IllegalArgumentException("--resume: the checkpoint was trained with --seed " + s.seed()
                    + ", not " + config.seed() + "; a run resumes with its own seed");
        }
        if (state.size() != s.optimizerState().size()) {
            throw new IllegalArgumentException("--resume: the checkpoint holds " + s.optimizerState().size()
                    + " optimizer state buffers, " + config.optimizer().describe() + " needs " + state.size());
        }
        if (s.modelState().length != model.stateLayout().size()) {
            throw new IllegalArgumentException("--resume: the checkpoint holds " + s.modelState().length
                    + " running-statistics values, the network has " + model.stateLayout().size());
        }
        model.loadParameters(s.parameters());
        model.loadState(s.modelState());
        for (int i = 0; i < state.size(); i++) {
            if (s.optimizerState().get(i).length != model.layout().size()) {
                throw new IllegalArgumentException("--resume: optimizer state " + i + " has the wrong size");
            }
            model.device().upload(s.optimizerState().get(i), state.get(i));
        }
    }
}
