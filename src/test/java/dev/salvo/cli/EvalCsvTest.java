package dev.salvo.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.salvo.Check;
import dev.salvo.data.Dataset;
import dev.salvo.io.ModelFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model trained on a CSV file remembers the file (absolute path, SHA-256) and its split (test
 * fraction, seed, label column, header): {@code salvo eval} without {@code --data} scores the same
 * test split the training held out, says so, and says clearly when the file moved or changed;
 * {@code --data} naming the training file warns that it scores rows the model trained on.
 */
class EvalCsvTest {

    @TempDir
    Path dir;

    Path csv;
    Path model;
    String trainOut;

    @BeforeEach
    void trainOnACsv() throws Exception {
        Dataset d = Check.clusters("c", 240, 5, 3, 4);
        StringBuilder sb = new StringBuilder("label,a,b,c,d,e\n");
        for (int r = 0; r < d.rows(); r++) {
            sb.append(d.labels()[r]);
            for (int k = 0; k < 5; k++) {
                sb.append(',').append(String.format(Locale.ROOT, "%.5f", d.features()[r * 5 + k]));
            }
            sb.append('\n');
        }
        csv = dir.resolve("points.csv");
        Files.writeString(csv, sb);
        model = dir.resolve("m.safetensors");
        // a path relative to the working directory: the model must store it absolute
        Path relative = Path.of("").toAbsolutePath().relativize(csv);
        CliTest.Result r = CliTest.run("train", "--data", "csv:" + relative, "--label-column", "label", "--test-fraction", "0.25",
                "--seed", "7", "--epochs", "3", "--no-progress", "--device", "cpu", "--out", dir.resolve("run").toString(),
                "--save", model.toString());
        assertEquals(0, r.code(), r.err());
        trainOut = r.out();
    }

    @Test
    void theModelRecordsTheAbsolutePathAndTheSplit() {
        Map<String, String> m = ModelFile.load(model).metadata();
        assertEquals(csv.toAbsolutePath().toString(), m.get("data_path"));
        assertEquals("0.25", m.get("test_fraction"));
        assertEquals("7", m.get("split_seed"));
        assertEquals("label", m.get("label_column"));
        assertEquals(64, m.get("data_sha256").length());
    }

    @Test
    void evalWithoutDataScoresTheTestSplitTheTrainingHeldOut() {
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        String acc = trainOut.replaceAll("(?s).*test accuracy ([0-9.]+%) \\((\\d+) rows\\).*", "$1");
        String rows = trainOut.replaceAll("(?s).*test accuracy ([0-9.]+%) \\((\\d+) rows\\).*", "$2");
        assertEquals("60", rows, trainOut);
        assertTrue(e.out().contains("accuracy " + acc), "the training's test accuracy " + acc + ": " + e.out());
        assertTrue(e.out().contains(", " + rows + " rows,"), e.out());
        assertTrue(e.out().contains("test split") && e.out().contains(csv.toAbsolutePath().toString()) && e.out().contains("seed 7"),
                "says which rows it scored: " + e.out());
        assertTrue(e.err().isEmpty(), e.err());
    }

    @Test
    void evalWithoutDataSaysClearlyThatTheCsvMoved() throws Exception {
        Files.move(csv, dir.resolve("elsewhere.csv"));
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--device", "cpu");
        assertEquals(2, e.code(), e.err());
        String err = e.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(csv.toAbsolutePath().toString()) && err.contains("moved") && err.contains("--data"), err);
    }

    @Test
    void evalWithoutDataRefusesACsvThatChangedSinceTraining() throws Exception {
        Files.writeString(csv, Files.readString(csv).replaceFirst("\n0,", "\n1,"));
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--device", "cpu");
        assertEquals(2, e.code(), e.err());
        String err = e.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains(csv.toAbsolutePath().toString()) && err.contains("changed"), err);
    }

    @Test
    void evalOnTheTrainingCsvWarnsThatItScoresTrainingRows() throws Exception {
        CliTest.Result e = CliTest.run("eval", "--model", model.toString(), "--data", "csv:" + csv, "--device", "cpu");
        assertEquals(0, e.code(), e.err());
        String err = e.err().strip();
        assertEquals(1, err.lines().count(), err);
        assertTrue(err.contains("warning") && err.contains("trained on"), err);
        assertTrue(e.out().contains(", 240 rows,"), "every row of the file: " + e.out());

        // a copy of it too
        Path copy = dir.resolve("copy.csv");
        Files.copy(csv, copy);
        CliTest.Result c = CliTest.run("eval", "--model", model.toString(), "--data", "csv:" + copy, "--device", "cpu");
        assertEquals(0, c.code(), c.err());
        assertEquals(1, c.err().strip().lines().count(), c.err());

        // another file: no warning
        Path other = dir.resolve("other.csv");
        Files.writeString(other, Files.readString(csv).replaceFirst("\n0,", "\n1,"));
        CliTest.Result o = CliTest.run("eval", "--model", model.toString(), "--data", "csv:" + other, "--device", "cpu");
        assertEquals(0, o.code(), o.err());
        assertTrue(o.err().isEmpty(), o.err());
    }
}
