package dev.salvo.bench;

import dev.salvo.device.Device;
import dev.salvo.nn.Gpt;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TextWindows;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import dev.salvo.util.Rng;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A shape check for a large GPT (GPT-2 small: 12 layers, 12 heads, 768 wide, context 1024, a 50,257
 * token vocabulary, 124M parameters): builds it on a device, runs a few real training steps (AdamW,
 * clipping, matrices-only decay) on random token ids, and reports the device memory it holds and
 * the time of each step. Not a training run: it shows the model fits and how long a step takes.
 */
public final class GptShape {

    private GptShape() {
    }

    /** What one check measured. */
    public record Result(long parameters, String memory, List<Double> stepSeconds, double firstLoss) {
    }

    /**
     * Builds {@code Gpt.spec(layers, heads, embd, context, vocab)} on {@code device} for batches of
     * {@code batch} windows and runs {@code steps} training steps, each timed (the loss is read back
     * after every step, which synchronizes the device).
     */
    public static Result run(Device device, int layers, int heads, int embd, int context, int vocab, int batch, int steps,
                             PrintWriter out) {
        NetworkSpec spec = Gpt.spec(layers, heads, embd, context, vocab);
        Rng rng = new Rng(1);
        int[] tokens = new int[context * (batch + 2) * 2 + 2];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = rng.nextInt(vocab);
        }
        int trainLength = tokens.length - (context + 1);
        TextWindows text = new TextWindows("random token ids", tokens, trainLength, vocab, context, steps, steps, 1);
        TrainConfig config = new TrainConfig(new Optimizer.Adam(0.9, 0.95, 1e-8, 0.1, true), 6e-4, new Schedule.Constant(0), batch,
                1, 1, 1, 0, TrainConfig.ResidentData.ON, 1.0, null);
        long t0 = System.nanoTime();
        try (Model model = new Model(device, spec, 1, batch); Trainer trainer = new Trainer(model, config)) {
            out.printf(Locale.ROOT, "built %s: %,d parameters in %.1f s%n", "GPT " + layers + "x" + heads + "x" + embd + ", context "
                    + context + ", vocabulary " + vocab + ", batch " + batch, model.layout().count(), (System.nanoTime() - t0) / 1e9);
            String memory = trainer.memoryLine();
            out.println(memory);
            out.flush();
            List<Double> seconds = new ArrayList<>();
            double[] firstLoss = {Double.NaN};
            long[] last = {System.nanoTime()};
            trainer.fit(text, new TrainListener() {
                @Override
                public void onLoss(long step, double loss) {
                    if (step == 0) {
                        firstLoss[0] = loss;
                    }
                }

                @Override
                public void onStep(int epoch, long step, int rows) {
                    long now = System.nanoTime();
                    seconds.add((now - last[0]) / 1e9);
                    out.printf(Locale.ROOT, "step %d: %.2f s%n", step + 1, seconds.get(seconds.size() - 1));
                    out.flush();
                    last[0] = now;
                }
            }, null);
            return new Result(model.layout().count(), memory, seconds, firstLoss[0]);
        }
    }
}
