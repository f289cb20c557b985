package dev.salvo.bench;

import dev.salvo.device.Activation;
import dev.salvo.nn.NetworkJson;
import dev.salvo.nn.NetworkSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;

/**
 * A network {@code salvo bench} trains: either an MLP given by its layer widths from input to
 * output (ReLU hidden layers, linear logits, softmax cross-entropy, Salvo's default ("auto") init),
 * or a network file on the class path ({@code resource}, Salvo's JSON form), such as the
 * Fashion-MNIST CNN.
 *
 * @param name     the name used in options and in bench.json
 * @param layers   widths, input first (for a network file: its input and output widths)
 * @param resource class-path resource of the network file; null for an MLP
 */
public record BenchModel(String name, List<Integer> layers, String resource) {

    /** The Fashion-MNIST recipe's network (README, "The Fashion-MNIST recipe"). */
    public static final BenchModel FASHION_MLP = new BenchModel("fashion-mlp", List.of(784, 512, 256, 10), null);
    /** A larger MLP whose steps are dominated by matmul. */
    public static final BenchModel MLP_2048 = new BenchModel("mlp-2048", List.of(784, 2048, 2048, 10), null);
    /**
     * The Fashion-MNIST CNN ({@code src/main/resources/nets/fashion-cnn.json}): conv 32 3x3 pad 1 ->
     * batch norm -> ReLU -> max pool 2 -> conv 64 3x3 pad 1 -> batch norm -> ReLU -> max pool 2 ->
     * flatten -> dropout 0.25 -> dense 128 -> batch norm -> ReLU -> dropout 0.5 -> dense 10.
     */
    public static final BenchModel FASHION_CNN = new BenchModel("fashion-cnn", List.of(784, 10), "nets/fashion-cnn.json");
    public static final List<BenchModel> KNOWN = List.of(FASHION_MLP, MLP_2048, FASHION_CNN);

    public BenchModel {
        layers = List.copyOf(layers);
        if (layers.size() < 2) {
            throw new IllegalArgumentException("a model needs at least an input and an output width");
        }
    }

    /** An MLP of these widths. */
    public BenchModel(String name, List<Integer> layers) {
        this(name, layers, null);
    }

    /** By name: {@code fashion-mlp}, {@code mlp-2048} or {@code fashion-cnn} (also {@code cnn}). */
    public static BenchModel parse(String name) {
        String n = name.trim().toLowerCase(Locale.ROOT);
        if (n.equals("cnn")) {
            return FASHION_CNN;
        }
        for (BenchModel m : KNOWN) {
            if (m.name.equals(n)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown model '" + name + "' (expected fashion-mlp, mlp-2048 or fashion-cnn)");
    }

    /** True for a network file (not an MLP of widths): it trains on the CNN recipe, on standardized inputs. */
    public boolean isNetwork() {
        return resource != null;
    }

    /** The network: for an MLP 784-512(relu)-256(relu)-10 cross-entropy; else the file's. */
    public NetworkSpec spec() {
        if (resource != null) {
            return NetworkJson.parse(json());
        }
        NetworkSpec.Builder b = NetworkSpec.input(layers.get(0));
        for (int i = 1; i < layers.size() - 1; i++) {
            b.dense(layers.get(i), Activation.RELU);
        }
        return b.dense(layers.get(layers.size() - 1)).build();
    }

    /** The network file's text (Salvo's JSON form); for an MLP, the JSON of {@link #spec()}. */
    public String json() {
        if (resource == null) {
            return NetworkJson.write(spec());
        }
        try (InputStream in = BenchModel.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException(resource + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Widths joined by dashes, e.g. 784-512-256-10; for a network file its description. */
    public String widths() {
        if (resource != null) {
            return spec().describe();
        }
        return String.join("-", layers.stream().map(String::valueOf).toList());
    }
}
