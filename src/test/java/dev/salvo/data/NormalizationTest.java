package dev.salvo.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class NormalizationTest {

    // 3 rows x 2 features: column 0 = 1,2,3 ; column 1 = 5,5,5 (constant)
    private final Dataset train = new Dataset("train", new float[] {1, 5, 2, 5, 3, 5}, new int[] {0, 1, 0}, 3, 2, 2);
    private final Dataset test = new Dataset("test", new float[] {4, 6}, new int[] {1}, 1, 2, 2);

    @Test
    void parseAcceptsTheThreeNamesAndNamesTheOptionOtherwise() {
        assertEquals(Normalization.NONE, Normalization.parse("none"));
        assertEquals(Normalization.SCALE, Normalization.parse("Scale"));
        assertEquals(Normalization.STANDARDIZE, Normalization.parse(" standardize "));
        for (String bad : new String[] {"zscore", "", null}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Normalization.parse(bad));
            assertTrue(e.getMessage().contains("--normalize") && e.getMessage().contains("none, scale, standardize"),
                    e.getMessage());
        }
        for (Normalization n : Normalization.values()) {
            assertEquals(n, Normalization.parse(n.optionName()));
        }
    }

    @Test
    void noneReturnsTheSameDatasets() {
        List<Dataset> out = Normalization.NONE.apply(train, test);
        assertSame(train, out.get(0));
        assertSame(test, out.get(1));
    }

    @Test
    void scaleUsesTheTrainingGlobalMinAndMax() {
        List<Dataset> out = Normalization.SCALE.apply(train, test);
        // min 1, max 5 over all training values
        assertArrayEquals(new float[] {0, 1, 0.25f, 1, 0.5f, 1}, out.get(0).features(), 1e-7f);
        assertArrayEquals(new float[] {0.75f, 1.25f}, out.get(1).features(), 1e-7f); // not clamped
        assertArrayEquals(new float[] {1, 5, 2, 5, 3, 5}, train.features()); // input untouched
        assertEquals(train.labels()[1], out.get(0).labels()[1]);
        assertEquals("test", out.get(1).name());
    }

    @Test
    void standardizeUsesTrainingMeanAndStdPerFeatureAndCentresConstants() {
        Dataset.Split s = Normalization.STANDARDIZE.apply(new Dataset.Split(train, test));
        double std = Math.sqrt(2.0 / 3.0); // population std of 1,2,3
        float a = (float) (-1 / std);
        assertArrayEquals(new float[] {a, 0, 0, 0, -a, 0}, s.first().features(), 1e-6f);
        assertArrayEquals(new float[] {(float) (2 / std), 1}, s.second().features(), 1e-6f);
    }

    @Test
    void widthMismatchAndEmptyTrainingAreRefused() {
        Dataset narrow = new Dataset("n", new float[] {1}, new int[] {0}, 1, 1, 1);
        assertThrows(IllegalArgumentException.class, () -> Normalization.SCALE.apply(train, narrow));
        Dataset empty = new Dataset("e", new float[0], new int[0], 0, 2, 2);
        assertThrows(IllegalArgumentException.class, () -> Normalization.STANDARDIZE.apply(empty, test));
    }
}
