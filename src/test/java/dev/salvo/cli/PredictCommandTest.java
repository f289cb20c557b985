package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.salvo.io.ModelFile;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code predict --top K} and {@code --probabilities}, with the class names a Fashion-MNIST model carries. */
class PredictCommandTest {

    static final List<String> FASHION = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
            "Sneaker", "Bag", "Ankle boot");

    @TempDir
    static Path dir;
    static Path model;
    static Path images;

    /** A small stand-in for Fashion-MNIST in IDX files (28x28, 10 classes), so the names come from a real training run. */
    @BeforeAll
    static void trainOnAMiniatureFashionMnist() throws IOException {
        Path data = dir.resolve("fashion");
        Files.createDirectories(data);
        Random rng = new Random(5);
        writeSet(data, "train", 300, rng);
        writeSet(data, "t10k", 60, rng);
        images = data.resolve("t10k-images-idx3-ubyte");
        model = dir.resolve("fashion.safetensors");
        CliTest.Result r = CliTest.run("train", "--data", "fashion-mnist", "--data-dir", data.toString(), "--layers", "784,16,10",
                "--epochs", "2", "--device", "cpu", "--no-progress", "--out", dir.resolve("run").toString(), "--save", model.toString());
        assertEquals(0, r.code(), r.out() + r.err());
    }

    static void writeSet(Path data, String prefix, int n, Random rng) throws IOException {
        byte[] pixels = new byte[n * 784];
        byte[] labels = new byte[n];
        for (int i = 0; i < n; i++) {
            int label = i % 10;
            labels[i] = (byte) label;
            for (int p = 0; p < 784; p++) {
                boolean lit = p / 78 == label; // a band of rows per class
                pixels[i * 784 + p] = (byte) (lit ? 150 + rng.nextInt(100) : rng.nextInt(60));
            }
        }
        Files.write(data.resolve(prefix + "-images-idx3-ubyte"), idx(0x0803, new int[] {n, 28, 28}, pixels));
        Files.write(data.resolve(prefix + "-labels-idx1-ubyte"), idx(0x0801, new int[] {n}, labels));
    }

    static byte[] idx(int magic, int[] dims, byte[] body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        out.writeInt(magic);
        for (int d : dims) {
            out.writeInt(d);
        }
        out.write(body);
        return b.toByteArray();
    }

    static CliTest.Result predict(String... extra) {
        List<String> args = new ArrayList<>(List.of("predict", "--model", model.toString(), "--input", images.toString(),
                "--device", "cpu"));
        args.addAll(List.of(extra));
        return CliTest.run(args.toArray(String[]::new));
    }

    @Test
    void theModelCarriesFashionMnistsClassNames() {
        String names = ModelFile.load(model).metadata().get("class_names");
        assertEquals("[\"T-shirt/top\",\"Trouser\",\"Pullover\",\"Dress\",\"Coat\",\"Sandal\",\"Shirt\",\"Sneaker\",\"Bag\",\"Ankle boot\"]",
                names);
    }

    @Test
    void eachRowNamesItsClass() {
        CliTest.Result r = predict();
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("row,class,name,probability", lines.get(0));
        assertEquals(61, lines.size());
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",");
            assertEquals(FASHION.get(Integer.parseInt(c[1])), c[2], line);
        }
    }

    @Test
    void topKListsTheMostLikelyClassesBestFirst() {
        CliTest.Result r = predict("--top", "3");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("row,rank,class,name,probability", lines.get(0));
        assertEquals(1 + 60 * 3, lines.size());
        for (int row = 0; row < 60; row++) {
            double last = 2;
            for (int rank = 1; rank <= 3; rank++) {
                String[] c = lines.get(1 + row * 3 + rank - 1).split(",");
                assertEquals(row, Integer.parseInt(c[0]));
                assertEquals(rank, Integer.parseInt(c[1]));
                assertEquals(FASHION.get(Integer.parseInt(c[2])), c[3]);
                double p = Double.parseDouble(c[4]);
                assertTrue(p <= last, "best first: " + lines.get(1 + row * 3 + rank - 1));
                last = p;
            }
        }
        // --top 1 is the default's class, with a rank
        List<String> one = predict("--top", "1").out().lines().toList();
        List<String> plain = predict().out().lines().toList();
        assertEquals(plain.get(5), one.get(5).replaceFirst("^(\\d+),1,", "$1,"));
    }

    @Test
    void probabilitiesListEveryClassUnderItsName() {
        CliTest.Result r = predict("--probabilities");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.out().lines().toList();
        assertEquals("row,class,name,probability," + String.join(",", FASHION), lines.get(0));
        for (String line : lines.subList(1, lines.size())) {
            String[] c = line.split(",");
            assertEquals(4 + 10, c.length, line);
            double sum = 0;
            int best = 0;
            for (int k = 0; k < 10; k++) {
                double p = Double.parseDouble(c[4 + k]);
                sum += p;
                best = p > Double.parseDouble(c[4 + best]) ? k : best;
            }
            assertEquals(1.0, sum, 1e-4, line);
            assertEquals(best, Integer.parseInt(c[1]), line);
            assertEquals(Double.parseDouble(c[3]), Double.parseDouble(c[4 + best]), 0.0, line);
        }
    }

    @Test
    void jsonCarriesTheSameWithNames() throws IOException {
        CliTest.Result t = predict("--format", "json", "--top", "2");
        assertEquals(0, t.code(), t.err());
        JsonNode rows = new ObjectMapper().readTree(t.out());
        assertEquals(60, rows.size());
        for (JsonNode row : rows) {
            assertEquals(FASHION.get(row.get("class").asInt()), row.get("name").asText());
            assertEquals(2, row.get("top").size());
            assertEquals(row.get("class").asInt(), row.get("top").get(0).get("class").asInt());
            assertEquals(1, row.get("top").get(0).get("rank").asInt());
            assertEquals(FASHION.get(row.get("top").get(1).get("class").asInt()), row.get("top").get(1).get("name").asText());
            assertTrue(row.get("top").get(0).get("probability").asDouble() >= row.get("top").get(1).get("probability").asDouble());
        }
        CliTest.Result p = predict("--format", "json", "--probabilities");
        assertEquals(0, p.code(), p.err());
        for (JsonNode row : new ObjectMapper().readTree(p.out())) {
            JsonNode all = row.get("probabilities");
            assertEquals(10, all.size());
            double sum = 0;
            for (int k = 0; k < 10; k++) {
                assertEquals(k, all.get(k).get("class").asInt());
                assertEquals(FASHION.get(k), all.get(k).get("name").asText());
                sum += all.get(k).get("probability").asDouble();
            }
            assertEquals(1.0, sum, 1e-4);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "-1", "11"})
    void topOutsideOneToTheClassesIsBadInput(String k) {
        CliTest.Result r = predict("--top", k);
        assertEquals(2, r.code(), r.out() + r.err());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("--top") && r.err().contains("10"), r.err());
    }

    @Test
    void aModelWithoutNamesShowsClassNumbersOnly() throws IOException {
        Path digits = dir.resolve("digits.safetensors");
        CliTest.Result t = CliTest.run("train", "--epochs", "1", "--device", "cpu", "--no-progress", "--out",
                dir.resolve("digits-run").toString(), "--save", digits.toString());
        assertEquals(0, t.code(), t.err());
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "0,".repeat(63) + "16\n");
        CliTest.Result r = CliTest.run("predict", "--model", digits.toString(), "--input", csv.toString(), "--top", "2");
        assertEquals(0, r.code(), r.err());
        assertEquals("row,rank,class,probability", r.out().lines().findFirst().orElseThrow());
        assertEquals(3, r.out().lines().count());
        CliTest.Result p = CliTest.run("predict", "--model", digits.toString(), "--input", csv.toString(), "--probabilities");
        assertEquals("row,class,probability,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9", p.out().lines().findFirst().orElseThrow());
    }
}
