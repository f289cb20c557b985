package dev.salvo.data;

import dev.salvo.util.InputFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * The MNIST family in IDX files: {@code fashion-mnist} and {@code mnist}. Both come as four files,
 * {@code train-images-idx3-ubyte}, {@code train-labels-idx1-ubyte}, {@code t10k-images-idx3-ubyte}
 * and {@code t10k-labels-idx1-ubyte}, each plain or with {@code .gz} appended (the content decides
 * whether it is compressed, see {@link Idx}).
 *
 * <p>They are looked up in the directory given by the user ({@code --data-dir}) and only there
 * when one is given, otherwise in {@code /usr/share/datasets/<name>}, where Debian's
 * {@code dataset-fashion-mnist} package installs Fashion-MNIST.
 *
 * <p>{@link #load} returns train (60,000 rows) and test (10,000 rows) with each image flattened
 * to {@code rows*cols} (784) features divided by 255 into [0, 1], and 10 classes.
 */
public final class StandardDatasets {

    public static final List<String> NAMES = List.of("fashion-mnist", "mnist");
    public static final Path SYSTEM_ROOT = Path.of("/usr/share/datasets");
    public static final int CLASSES = 10;

    /** Fashion-MNIST's class names in label order (0 to 9), as its authors name them. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
    private static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);

    private StandardDatasets() {
    }

    /**
     * The names of the classes of dataset {@code name} in label order, or an empty list when the
     * dataset has none beyond the label itself (mnist's and the embedded digits' labels are the
     * digits; a CSV's labels are numbers).
     */
    public static List<String> classNames(String name) {
        return "fashion-mnist".equals(name) ? FASHION_MNIST_CLASSES : List.of();
    }

    /** Whether {@code name} is a dataset this class knows. */
    public static boolean isKnown(String name) {
        return NAMES.contains(name);
    }

    /**
     * The directory the four files of {@code name} are read from: {@code dataDir} when not null,
     * else {@code /usr/share/datasets/<name>}.
     *
     * @throws IllegalArgumentException for an unknown name, or when a file is missing there; the
     *                                  one-line message says where it looked and how to get the files
     */
    public static Path resolvedDir(String name, Path dataDir) {
        checkName(name);
        if (dataDir != null) {
            if (!Files.exists(dataDir)) {
                throw new IllegalArgumentException("--data-dir: no such directory " + dataDir + "; " + howToGet(name));
            }
            InputFiles.requireDirectory("--data-dir", dataDir);
        }
        Path dir = dataDir != null ? dataDir : SYSTEM_ROOT.resolve(name);
        for (String f : FILES) {
            Path p = find(dir, f);
            if (p != null) {
                InputFiles.requireFile(dataDir != null ? "--data-dir" : "--data " + name, p);
            } else {
                throw new IllegalArgumentException(name + ": " + f + "[.gz] not found in " + dir.toAbsolutePath()
                        + (dataDir != null ? " (the --data-dir given)" : " (the default; no --data-dir given)")
                        + "; " + howToGet(name));
            }
        }
        return dir;
    }

    /**
     * Loads the train and test splits of {@code name}.
     *
     * @param dataDir where the four files are, or null for {@code /usr/share/datasets/<name>}
     * @return first = train (60,000 rows), second = test (10,000 rows), features in [0, 1]
     * @throws IllegalArgumentException when the dataset or its files cannot be found
     * @throws DataFormatException      when a file is malformed, images and labels disagree in
     *                                  count, or a label is outside [0, 10)
     */
    public static Dataset.Split load(String name, Path dataDir) {
        Path dir = resolvedDir(name, dataDir);
        Dataset train = load(name + "-train", find(dir, TRAIN_IMAGES), find(dir, TRAIN_LABELS), -1);
        Dataset test = load(name + "-test", find(dir, TEST_IMAGES), find(dir, TEST_LABELS), train.width());
        return new Dataset.Split(train, test);
    }

    private static Dataset load(String setName, Path imagesFile, Path labelsFile, int expectWidth) {
        Idx.Tensor images = Idx.read(imagesFile);
        if (images.type() != Idx.UBYTE || images.dims().length != 3) {
            throw new DataFormatException(imagesFile, "bytes 0..3", "expected " + Idx.typeName(Idx.UBYTE)
                    + " images with 3 dimensions (count, rows, cols), found " + Idx.typeName(images.type()) + " "
                    + Arrays.toString(images.dims()));
        }
        int count = images.dim(0);
        int width = images.dim(1) * images.dim(2); // product < 2^31 since the tensor was allocated
        if (width < 1) {
            throw new DataFormatException(imagesFile, "bytes 8..15", "images of " + images.dim(1) + "x"
                    + images.dim(2) + " pixels have no pixels");
        }
        if (expectWidth > 0 && width != expectWidth) {
            throw new DataFormatException(imagesFile, "bytes 8..15", "images of " + images.dim(1) + "x" + images.dim(2)
                    + " = " + width + " pixels, but the training images have " + expectWidth);
        }
        Idx.Tensor labelTensor = Idx.read(labelsFile);
        if (labelTensor.type() != Idx.UBYTE || labelTensor.dims().length != 1) {
            throw new DataFormatException(labelsFile, "bytes 0..3", "expected " + Idx.typeName(Idx.UBYTE)
                    + " labels with 1 dimension, found " + Idx.typeName(labelTensor.type()) + " "
                    + Arrays.toString(labelTensor.dims()));
        }
        if (labelTensor.dim(0) != count) {
            throw new DataFormatException(labelsFile, "bytes 4..7", labelTensor.dim(0) + " labels, but "
                    + imagesFile.getFileName() + " has " + count + " images");
        }
        int[] labels = labelTensor.asLabels();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= CLASSES) {
                throw new DataFormatException(labelsFile, labelTensor.locationOf(i), "label " + labels[i] + " of image "
                        + i + " is outside [0, " + CLASSES + ")");
            }
        }
        float[] x = images.values(); // freshly allocated by the reader: scale in place
        for (int i = 0; i < x.length; i++) {
            x[i] /= 255f;
        }
        return new Dataset(setName, x, labels, count, width, CLASSES);
    }

    private static void checkName(String name) {
        if (!isKnown(name)) {
            throw new IllegalArgumentException("unknown dataset '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        }
    }

    /**
     * {@code dir/base} if it exists, else {@code dir/base.gz} if that does, else null (what is
     * found must then be a readable file, see {@link #resolvedDir}).
     */
    private static Path find(Path dir, String base) {
        for (String n : new String[] {base, base + ".gz"}) {
            Path p = dir.resolve(n);
            if (Files.exists(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * {rows of train and test together, features per image, 0} as the IDX headers of
     * {@code name}'s image files declare them, without reading the images (for estimates of the
     * memory they need); null when a header cannot be read.
     */
    public static long[] shape(String name, Path dataDir) {
        checkName(name);
        Path dir = dataDir != null ? dataDir : SYSTEM_ROOT.resolve(name);
        long rows = 0;
        long width = 0;
        for (String f : List.of(TRAIN_IMAGES, TEST_IMAGES)) {
            Path p = find(dir, f);
            int[] dims = p == null ? null : Idx.dims(p);
            if (dims == null || dims.length != 3) {
                return null;
            }
            rows += dims[0];
            width = (long) dims[1] * dims[2];
        }
        return new long[] {rows, width, 0};
    }

    private static String howToGet(String name) {
        if (name.equals("fashion-mnist")) {
            return "install Debian's package (apt-get install dataset-fashion-mnist, which puts them in "
                    + SYSTEM_ROOT.resolve(name) + ") or download the four .gz files from"
                    + " https://github.com/zalandoresearch/fashion-mnist (data/fashion) and pass --data-dir DIR";
        }
        return "download the four .gz files from the MNIST site (http://yann.lecun.com/exdb/mnist/ or a mirror)"
                + " and pass --data-dir DIR, or put them in " + SYSTEM_ROOT.resolve(name);
    }
}
