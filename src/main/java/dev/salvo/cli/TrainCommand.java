package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.data.InputTransform;
import dev.salvo.data.Normalization;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.nn.Init;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.io.ModelFile;
import dev.salvo.io.RunFolder;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.EpochStats;
import dev.salvo.train.Evaluation;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.train.Trainer;
import dev.salvo.train.TrainingDivergedException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo train}: trains a multilayer perceptron and reports test accuracy. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron by backpropagation on a device.",
                "With no options: the embedded UCI digits dataset (8x8 images, 1,797 samples, CC BY 4.0),",
                "a fixed stratified 80/20 train/test split, 10% of train held out for validation.",
                "Writes a run folder (metrics.csv, summary.json, curves.png, model.safetensors)."})
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", defaultValue = "digits",
            description = "digits (embedded), fashion-mnist, mnist, or csv:PATH. Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--data-dir", description = "Directory of the IDX files of fashion-mnist/mnist (default: /usr/share/datasets/<name>).")
    Path dataDir;

    @Option(names = "--label-column", description = "CSV: the label column, by header name or 0-based index (default: the last).")
    String labelColumn;

    @Option(names = "--header", negatable = true, description = "CSV: the first row is (--header) or is not (--no-header) a header (default: detected).")
    Boolean header;

    @Option(names = "--test-fraction", defaultValue = "0.2", description = "CSV: share of rows held out for the test. Default: ${DEFAULT-VALUE}.")
    double testFraction;

    @Option(names = "--normalize", defaultValue = "none",
            description = "Input normalisation fitted on the training split: none, scale ([0,1]), standardize. Default: ${DEFAULT-VALUE}.")
    String normalize;

    @Option(names = "--layers", split = ",",
            description = "All layer sizes from input to output; the first must equal the data's features, "
                    + "the last its classes (default: features,128,64,classes).")
    List<Integer> layers;

    @Option(names = "--activation", defaultValue = "relu",
            description = "Hidden-layer activation: relu, leaky-relu, sigmoid, tanh, gelu. Default: ${DEFAULT-VALUE}.")
    String activation;

    @Option(names = "--loss", defaultValue = "cross-entropy",
            description = "cross-entropy (softmax fused) or mse (on one-hot targets, after a softmax layer). Default: ${DEFAULT-VALUE}.")
    String loss;

    @Option(names = "--init", defaultValue = "auto", description = "Weight init: he, xavier, auto (he for ReLU-like). Default: ${DEFAULT-VALUE}.")
    String init;

    @Option(names = "--optimizer", defaultValue = "adam",
            description = "sgd, momentum, nesterov, adam, adamw. Default: ${DEFAULT-VALUE}.")
    String optimizer;

    @Option(names = "--lr", defaultValue = "0.003", description = "Base learning rate (positive). Default: ${DEFAULT-VALUE}.")
    double lr;

    @Option(names = "--momentum", description = "Momentum for momentum/nesterov (default 0.9) or sgd (default 0).")
    Double momentum;

    @Option(names = "--weight-decay", description = "Weight decay (L2 for sgd/adam, decoupled for adamw; adamw default 0.01, others 0).")
    Double weightDecay;

    @Option(names = "--schedule", defaultValue = "cosine", description = "constant, step or cosine. Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--warmup", defaultValue = "0", description = "Linear warm-up steps. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--lr-step-epochs", defaultValue = "10", description = "step schedule: epochs between decays. Default: ${DEFAULT-VALUE}.")
    int stepEpochs;

    @Option(names = "--lr-gamma", defaultValue = "0.1", description = "step schedule: decay factor. Default: ${DEFAULT-VALUE}.")
    double gamma;

    @Option(names = "--lr-min-factor", defaultValue = "0", description = "cosine schedule: final rate as a fraction of --lr. Default: ${DEFAULT-VALUE}.")
    double minFactor;

    @Option(names = {"-b", "--batch-size"}, defaultValue = "32", description = "Mini-batch rows. Default: ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = {"-e", "--epochs"}, defaultValue = "30", description = "Epochs. Default: ${DEFAULT-VALUE}.")
    int epochs;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of weight init and batch order. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--device", description = "auto, cpu, opencl[:N], cuda[:N], reference (default: SALVO_DEVICE, -Dsalvo.device, else auto).")
    String device;

    @Option(names = "--patience", defaultValue = "0", description = "Early stopping: epochs without a better validation loss (0 = off). Default: ${DEFAULT-VALUE}.")
    int patience;

    @Option(names = "--val-fraction", defaultValue = "0.1", description = "Share of the training rows held out for validation, in (0, 0.5]. Default: ${DEFAULT-VALUE}.")
    double valFraction;

    @Option(names = "--loss-every", defaultValue = "1", description = "Read the loss back every k steps. Default: ${DEFAULT-VALUE}.")
    int lossEvery;

    @Option(names = "--resident-data", defaultValue = "auto",
            description = "Keep the training and validation data on the device and gather batches there: auto (when they take at most a quarter of device memory), on, off. Default: ${DEFAULT-VALUE}.")
    String residentData;

    @Option(names = "--no-progress", description = "No progress bar (epoch lines only).")
    boolean noProgress;

    @Option(names = "--out", description = "Run folder for metrics.csv, summary.json, curves.png and the model (default: runs/<timestamp>).")
    Path outDir;

    @Option(names = "--save", description = "Also write the trained model (safetensors) here.")
    Path save;

    @Option(names = "--checkpoint-dir", description = "Save checkpoints (parameters, optimizer state, data order, RNG) here.")
    Path checkpointDir;

    @Option(names = "--checkpoint-every", defaultValue = "0",
            description = "Checkpoint every N steps (0: at the end of each epoch when --checkpoint-dir is set).")
    int checkpointEvery;

    @Option(names = "--resume", description = "Continue from the checkpoint in this directory (same options as the run that wrote it).")
    Path resume;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();

        // validate every option before any work
        Activation act = opt("--activation", () -> Activation.parse(activation));
        Loss lossKind = opt("--loss", () -> Loss.parse(loss));
        Init initKind = opt("--init", () -> Init.parse(init));
        Optimizer opt = opt("--optimizer", () -> Optimizer.parse(optimizer, momentum, weightDecay));
        Schedule sched = opt("--schedule", () -> Schedule.parse(schedule, warmup, stepEpochs, gamma, minFactor));
        TrainConfig.ResidentData placement = opt("--resident-data", () -> TrainConfig.ResidentData.parse(residentData));
        TrainConfig config = new TrainConfig(opt, lr, sched, batchSize, epochs, seed, lossEvery, patience, placement);
        if (!(valFraction > 0 && valFraction <= 0.5)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 0.5], got " + valFraction);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be 0 or more steps, got " + checkpointEvery);
        }
        if (checkpointEvery > 0 && checkpointDir == null) {
            throw new IllegalArgumentException("--checkpoint-every needs --checkpoint-dir");
        }
        Checkpoint.Snapshot resumed = resume == null ? null : Checkpoint.load(resume);
        DataSource.Loaded source = DataSource.load(data, dataDir, labelColumn, header, testFraction, seed);
        Path csv = DataSource.csvFile(data);
        String csvSha256 = csv == null ? null : DataSource.sha256(csv);
        Dataset.Split trainVal = source.train().stratifiedSplit(valFraction, seed, source.name() + "-train", source.name() + "-val");
        InputTransform transform = Normalization.parse(normalize).fit(trainVal.first());
        Dataset train = transform.apply(trainVal.first());
        Dataset val = transform.apply(trainVal.second());
        Dataset test = transform.apply(source.test());
        checkData(train);
        NetworkSpec net = network(train, act, lossKind, initKind);

        String deviceSource = device != null ? "--device"
                : System.getProperty("salvo.device") != null ? "-Dsalvo.device" : "SALVO_DEVICE";
        Devices.Selection sel = opt(deviceSource, () -> Devices.open(device));
        try (Device dev = sel.device();
             Model model = new Model(dev, net, seed, batchSize);
             Trainer trainer = new Trainer(model, config)) {
            if (resumed != null) {
                trainer.resume(resumed);
            }
            RunFolder run = RunFolder.create(outDir, dev.info().id());
            out.println("device: " + sel.report().get(0));
            for (String line : sel.report().subList(1, sel.report().size())) {
                out.println("        " + line);
            }
            out.printf(Locale.ROOT, "data:   %s: %d train, %d validation, %d test rows (%s; normalize %s)%n", source.name(),
                    train.rows(), val.rows(), test.rows(), source.origin(), normalize);
            out.printf(Locale.ROOT, "model:  %s, %d parameters, init sha256 %s%n", net.describe(), model.layout().count(),
                    model.initialSha256().substring(0, 16));
            out.printf(Locale.ROOT, "train:  %s, lr %s %s, batch %d, %d epochs, seed %d%n", opt.describe(), lr,
                    sched.describe(), batchSize, epochs, seed);
            out.flush();
            out.println("run:    " + run.dir() + (resumed == null ? "" : " (resumed at epoch " + (resumed.epoch() + 1)
                    + ", step " + resumed.step() + " from " + resume + ")"));
            out.flush();
            ProgressBar bar = new ProgressBar(out, err, !noProgress) {
                @Override
                public void onEpoch(EpochStats s) {
                    super.onEpoch(s);
                    run.epoch(s, (long) s.epoch() * trainer.stepsPerEpoch(train.rows()));
                }
            };
            Checkpoint.Policy policy = checkpointDir == null ? null
                    : new Checkpoint.Policy(checkpointDir, checkpointEvery > 0 ? checkpointEvery : Integer.MAX_VALUE, checkpointEvery == 0);
            History h;
            try {
                h = trainer.fit(train, val, bar, policy);
            } catch (TrainingDivergedException e) {
                bar.clear();
                throw e;
            }
            Evaluation ev = trainer.evaluate(test);
            out.printf(Locale.ROOT, "%stest accuracy %s (%d rows), test loss %.4f%n",
                    h.stoppedEarly() ? "early stop: kept epoch " + h.bestEpoch() + "; " : "",
                    Format.percent(ev.accuracy()), ev.rows(), ev.loss());
            out.printf(Locale.ROOT, "wall time %.2fs, %d steps, %.0f samples/s, device %s (%s)%n", h.seconds(), h.steps(),
                    h.samples() / h.seconds(), dev.info().id(), dev.info().name());

            float[] params = model.parametersToHost();
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("dataset", source.name());
            if (csv != null) { // what salvo eval needs to score the same test split again (EvalCommand)
                facts.put(EvalCommand.DATA_PATH, csv.toAbsolutePath().normalize().toString());
                facts.put(EvalCommand.DATA_SHA256, csvSha256);
                facts.put(EvalCommand.TEST_FRACTION, Double.toString(testFraction));
                facts.put(EvalCommand.SPLIT_SEED, Long.toString(seed));
                if (labelColumn != null) {
                    facts.put(EvalCommand.LABEL_COLUMN, labelColumn);
                }
                if (header != null) {
                    facts.put(EvalCommand.HEADER, header.toString());
                }
            }
            facts.put("classes", Integer.toString(net.outputs()));
            facts.put("normalize", normalize);
            facts.put("device", dev.info().id() + " (" + dev.info().name() + ")");
            facts.put("epochs", Integer.toString(h.epochs().size()));
            facts.put("optimizer", opt.describe());
            facts.put("learning_rate", Double.toString(lr));
            facts.put("batch_size", Integer.toString(batchSize));
            facts.put("seed", Long.toString(seed));
            facts.put("init_sha256", model.initialSha256());
            facts.put("test_accuracy", String.format(Locale.ROOT, "%.6f", ev.accuracy()));
            facts.put("created", Instant.now().toString());
            Path modelFile = run.dir().resolve(RunFolder.MODEL);
            ModelFile.save(modelFile, net, params, transform, facts);
            if (save != null) {
                ModelFile.save(save, net, params, transform, facts);
            }
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("command", "salvo train");
            summary.put("dataset", source.name());
            summary.put("data", source.origin());
            summary.put("network", net.describe());
            summary.put("parameters", model.layout().count());
            summary.put("optimizer", opt.describe());
            summary.put("learning_rate", lr);
            summary.put("schedule", sched.describe());
            summary.put("batch_size", batchSize);
            summary.put("epochs_run", h.epochs().size());
            summary.put("seed", seed);
            summary.put("device", dev.info().id());
            summary.put("device_name", dev.info().name());
            summary.put("init_sha256", model.initialSha256());
            summary.put("test_accuracy", ev.accuracy());
            summary.put("test_loss", ev.loss());
            summary.put("wall_seconds", h.seconds());
            summary.put("samples_per_second", h.samples() / h.seconds());
            summary.put("stopped_early", h.stoppedEarly());
            summary.put("model", modelFile.toString());
            run.summary(summary);
            boolean drew = run.curves(source.name() + " " + net.describe());
            out.println("wrote " + run.dir() + ": " + RunFolder.METRICS + ", " + RunFolder.SUMMARY + ", "
                    + (drew ? RunFolder.CURVES + ", " : "") + RunFolder.MODEL + (save == null ? "" : "; model also at " + save)
                    + (drew ? "" : " (curves.png skipped: this Java runtime has no java.desktop module)"));
        }
        return 0;
    }

    private NetworkSpec network(Dataset train, Activation act, Loss lossKind, Init initKind) {
        if (layers == null) {
            layers = List.of(train.width(), 128, 64, train.classes());
        }
        if (layers.size() < 2) {
            throw new IllegalArgumentException("--layers needs at least an input and an output size, got " + layers);
        }
        for (int w : layers) {
            if (w < 1) {
                throw new IllegalArgumentException("--layers: every size must be at least 1, got " + layers);
            }
        }
        if (layers.get(0) != train.width()) {
            throw new IllegalArgumentException("--layers: the first size must equal the " + train.width()
                    + " features of " + data + ", got " + layers.get(0));
        }
        int last = layers.get(layers.size() - 1);
        if (last != train.classes()) {
            throw new IllegalArgumentException("--layers: the last size must equal the " + train.classes()
                    + " classes of " + data + ", got " + last);
        }
        NetworkSpec.Builder b = NetworkSpec.input(layers.get(0)).loss(lossKind).init(initKind);
        for (int i = 1; i < layers.size() - 1; i++) {
            b.dense(layers.get(i), act);
        }
        b.dense(last);
        if (lossKind == Loss.MSE) {
            b.softmax();
        }
        return b.build();
    }

    private static void checkData(Dataset train) {
        if (train.rows() == 0) {
            throw new IllegalArgumentException("--data: " + train.name() + " has no rows");
        }
        if (train.distinctLabels() < 2) {
            throw new IllegalArgumentException("--data: " + train.name() + " has a single class; a classifier needs at least 2");
        }
    }

    /** Runs a parser and prefixes its error with the option's name. */
    private static <T> T opt(String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new IllegalArgumentException(m.startsWith("--") ? m : name + ": " + m, e);
        }
    }
}
