package dev.salvo.cli;

import static dev.salvo.cli.BadInputFilesTest.oneLine;

import org.junit.jupiter.api.Test;

/** Bad values of the GPT-2-style training options: exit 2 with one line naming the option, before any work. */
class TrainOptionsCliTest {

    private static CliTest.Result train(String... extra) {
        String[] base = {"train", "--no-progress", "--data", "digits", "--epochs", "1"};
        String[] all = new String[base.length + extra.length];
        System.arraycopy(base, 0, all, 0, base.length);
        System.arraycopy(extra, 0, all, base.length, extra.length);
        return CliTest.run(all);
    }

    @Test
    void negativeOrNonFiniteClipNorm() {
        oneLine(train("--clip-norm", "-1"), "--clip-norm", "-1");
        oneLine(train("--clip-norm", "NaN"), "--clip-norm");
    }

    @Test
    void unknownDecayParams() {
        oneLine(train("--decay-params", "weights"), "--decay-params", "all or matrices", "weights");
    }

    @Test
    void badAdamBetasAndEps() {
        oneLine(train("--optimizer", "adamw", "--beta1", "1"), "--beta1", "[0, 1)");
        oneLine(train("--optimizer", "adam", "--beta2", "-0.5"), "--beta2");
        oneLine(train("--optimizer", "adamw", "--eps", "0"), "--eps", "positive");
        oneLine(train("--optimizer", "sgd", "--beta2", "0.95"), "--beta2", "adam and adamw only");
    }
}
