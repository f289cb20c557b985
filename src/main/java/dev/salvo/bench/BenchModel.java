package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.nn.NetworkSpec;
import java.util.List;
import java.util.Locale;

/**
 * A network {@code salvo bench} trains: layer widths from input to output, ReLU hidden layers,
 * linear logits, softmax cross-entropy, Salvo's default ("auto") init.
 *
 * @param name   the name used in options and in bench.json
 * @param layers widths, input first
 */
public record BenchModel(String name, List<Integer> layers) {

    /** The Fashion-MNIST recipe's network (README, "The Fashion-MNIST recipe"). */
    public static final BenchModel FASHION_MLP = new BenchModel("fashion-mlp", List.of(784, 512, 256, 10));
    /** A larger MLP whose steps are dominated by matmul. */
    public static final BenchModel MLP_2048 = new BenchModel("mlp-2048", List.of(784, 2048, 2048, 10));
    public static final List<BenchModel> KNOWN = List.of(FASHION_MLP, MLP_2048);

    public BenchModel {
        layers = List.copyOf(layers);
        if (layers.size() < 2) {
            throw new IllegalArgumentException("a model needs at least an input and an output width");
        }
    }

    /** By name: {@code fashion-mlp} or {@code mlp-2048}. */
    public static BenchModel parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        for (BenchModel m : KNOWN) {
            if (m.name.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "' (expected fashion-mlp or mlp-2048)");
    }

    /** The network, e.g. 784-512(relu)-256(relu)-10 cross-entropy. */
    public NetworkSpec spec() {
        NetworkSpec.Builder b = NetworkSpec.input(layers.get(0));
        for (int i = 1; i < layers.size() - 1; i++) {
            b.dense(layers.get(i), Activation.RELU);
        }
        return b.dense(layers.get(layers.size() - 1)).build();
    }

    /** Widths joined by dashes, e.g. 784-512-256-10. */
    public String widths() {
        return String.join("-", layers.stream().map(String::valueOf).toList());
    }
}
