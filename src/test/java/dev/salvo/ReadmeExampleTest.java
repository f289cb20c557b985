package dev.salvo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.data.Dataset;
import dev.salvo.data.Digits;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Evaluation;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.TrainListener;
import dev.salvo.train.Trainer;
import org.junit.jupiter.api.Test;

/** The Java API example of README.md, verbatim, so the README cannot drift from the code. */
class ReadmeExampleTest {

    @Test
    void readmeExampleTrainsTheDigits() {
        // --- README example begins
        NetworkSpec net = NetworkSpec.input(64)
                .dense(128, Activation.RELU)
                .dense(64, Activation.RELU)
                .dense(10)                      // logits: softmax is fused into the cross-entropy loss
                .build();
        Dataset.Split digits = Digits.trainTest();     // embedded UCI digits, fixed 80/20 split

        try (Device device = Devices.open("auto").device();
             Model model = new Model(device, net, 1, 32);   // seed 1, batches of up to 32 rows
             Trainer trainer = new Trainer(model, TrainConfig.defaults()
                     .withOptimizer(Optimizer.adamW(0.01))
                     .withLearningRate(3e-3)
                     .withSchedule(new Schedule.Cosine(0.0, 0))
                     .withEpochs(20))) {
            trainer.fit(digits.first(), null, TrainListener.NONE);
            Evaluation test = trainer.evaluate(digits.second());
            System.out.printf("test accuracy %.2f%% on %s%n", 100 * test.accuracy(), device.info().name());
            // --- README example ends
            assertTrue(test.accuracy() >= 0.95, "accuracy " + test.accuracy());
        }
    }
}
