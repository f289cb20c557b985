package dev.salvo.cli;

import dev.salvo.data.Dataset;
import dev.salvo.data.InputTransform;
import dev.salvo.device.Activation;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.ModelFile;
import dev.salvo.train.RunFolder;
import dev.salvo.nn.Init;
import dev.salvo.nn.Loss;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.EpochStats;
import dev.salvo.train.Evaluation;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.Schedule;
import dev.salvo.train.TrainConfig;
import dev.salvo.nn.DecayPolicy;
import dev.salvo.train.Trainer;
import dev.salvo.train.TrainingDivergedException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code salvo train}: trains a multilayer perceptron and reports test accuracy. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a multilayer perceptron by backpropagation on a device.",
                "With no options: the embedded UCI digits dataset (8x8 images, 1,797 samples, CC BY 4.0), "
                        + "a fixed stratified 80/20 train/test split, 10%% of train held out for validation. "
                        + "Writes a run folder (metrics.csv, summary.json, curves.png, model.safetensors)."},
        exitCodeListHeading = ExitCodes.HEADING,
        exitCodeList = {ExitCodes.OK, ExitCodes.FAILED, ExitCodes.USAGE, ExitCodes.UNAVAILABLE, ExitCodes.DIVERGED,
                ExitCodes.INTERRUPTED})
final class TrainCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", defaultValue = "digits",
            description = "digits (embedded), fashion-mnist, mnist, csv:PATH, or text for a character language model: text:PATH"
                    + " (a UTF-8 file) or kjv-genesis (embedded: the book of Genesis, KJV). Default: ${DEFAULT-VALUE}.")
    String data;

    @Option(names = "--gpt", split = ",", paramLabel = "L,H,C",
            description = "Text: a GPT of L layers, H heads, C wide over the data's character vocabulary and --context.")
    List<Integer> gpt;

    @Option(names = "--context", description = "Text: window length T in characters (default: the --net's input length, or "
            + TextTraining.DEFAULT_CONTEXT + " for --gpt).")
    Integer context;

    @Option(names = "--steps", defaultValue = "2000",
            description = "Text: training steps in all (in epochs of --eval-every steps; the last may be shorter). Default: ${DEFAULT-VALUE}.")
    long steps;

    @Option(names = "--eval-every", defaultValue = "250",
            description = "Text: steps between validations (an epoch's steps, a row of metrics.csv). Default: ${DEFAULT-VALUE}.")
    int evalEvery;

    @Option(names = "--eval-windows", defaultValue = "1000",
            description = "Text: most validation windows (consecutive, non-overlapping, evenly spaced when there are more). Default: ${DEFAULT-VALUE}.")
    int evalWindows;

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

    @Option(names = "--net", paramLabel = "FILE",
            description = "The network as JSON: input shape, layers (conv2d, batchnorm, maxpool, dropout, dense...), loss, init; "
                    + "see the README's Networks section. Replaces --layers, --activation, --loss and --init.")
    Path netFile;

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

    @Option(names = "--beta1", description = "adam/adamw: the first moment's decay, in [0, 1) (default 0.9).")
    Double beta1;

    @Option(names = "--beta2", description = "adam/adamw: the second moment's decay, in [0, 1) (default 0.999; GPT-2 recipes use 0.95).")
    Double beta2;

    @Option(names = "--eps", description = "adam/adamw: the denominator's epsilon, positive (default 1e-8).")
    Double eps;

    @Option(names = "--clip-norm", defaultValue = "0",
            description = "Clip the gradients to this global L2 norm before each update (PyTorch's clip_grad_norm_; 0 = off). Default: ${DEFAULT-VALUE}.")
    double clipNorm;

    @Option(names = "--decay-params",
            description = "Which parameters weight decay applies to: all, or matrices (tensors of 2 or more dimensions: no biases or norm parameters, as nanoGPT). Default: the network's \"decay\" (all).")
    String decayParams;

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

    @Option(names = "--resume", description = {
            "Continue the run whose checkpoint is in this directory (or file). Its options are restored from the checkpoint:"
                    + " those given must equal them, except --epochs (may be raised), --data-dir (the data is checked"
                    + " by its SHA-256) and the options of where and how to run (--device, --out, --save, --checkpoint-dir,"
                    + " --checkpoint-every, --loss-every, --resident-data, --no-progress).",
            "The run folder it wrote is continued, unless --out names another."})
    Path resume;

    @Option(names = "--overwrite",
            description = "Replace an existing run folder (--out), a checkpoint directory holding a checkpoint, or an existing --save file, instead of refusing.")
    boolean overwrite;

    @Override
    public Integer call() {
        try (Interrupts interrupts = Interrupts.install(spec.commandLine().getErr())) {
            return train(interrupts);
        }
    }

    @picocli.CommandLine.Mixin
    DistributedOptions dist = new DistributedOptions();

    private int train(Interrupts interrupts) {
        DistributedRun job = DistributedRun.check(dist.distributed, device);
        if (job != null && !job.writer()) {
            interrupts.quietFirst();
        }
        int rc = TextTraining.isText(data) ? TextTraining.train(this, interrupts, job) : train(interrupts, job);
        if (job != null) {
            job.close(); // every rank got here: MPI_Finalize (a failure ends the job from Main's handler instead)
        }
        return rc;
    }

    private int train(Interrupts interrupts, DistributedRun job) {
        for (String o : new String[] {"--gpt", "--context", "--steps", "--eval-every", "--eval-windows"}) {
            if (spec.commandLine().getParseResult().hasMatchedOption(o)) {
                throw new IllegalArgumentException(o + " applies to text data only (--data text:PATH or " + dev.salvo.data.TextCorpus.GENESIS
                        + "), not " + data);
            }
        }
        PrintWriter console = spec.commandLine().getOut();
        PrintWriter out = job == null ? console : job.out(console);
        PrintWriter err = spec.commandLine().getErr();

        // a resumed run first takes its options from the checkpoint
        Checkpoint.Snapshot resumed = null;
        Path resumeFile = null;
        List<String> restored = List.of();
        int checkpointEpochs = 0;
        if (resume != null) {
            resumeFile = Files.isDirectory(resume) ? resume.resolve(Checkpoint.FILE) : resume;
            resumed = Checkpoint.load(resume);
            String e = resumed.info().get(ResumeOptions.OPTION_KEY + "--epochs");
            checkpointEpochs = e == null ? 0 : Integer.parseInt(e);
            restored = ResumeOptions.restore(spec, resumed);
            if (checkpointDir == null) {
                checkpointDir = resumeFile.toAbsolutePath().getParent(); // it goes on checkpointing where it was
            }
        }

        // validate every option before any work
        NetworkSpec fromFile = netFile == null ? null : NetFiles.read(netFile, spec.commandLine().getParseResult());
        Activation act = opt("--activation", () -> Activation.parse(activation));
        Loss lossKind = opt("--loss", () -> Loss.parse(loss));
        Init initKind = opt("--init", () -> Init.parse(init));
        Optimizer opt = opt("--optimizer", () -> Optimizer.parse(optimizer, momentum, weightDecay, beta1, beta2, eps));
        DecayPolicy decayPolicy = decayParams == null ? null : opt("--decay-params", () -> DecayPolicy.parse(decayParams));
        Schedule sched = opt("--schedule", () -> Schedule.parse(schedule, warmup, stepEpochs, gamma, minFactor));
        TrainConfig.ResidentData placement = opt("--resident-data", () -> TrainConfig.ResidentData.parse(residentData));
        TrainConfig config = new TrainConfig(opt, lr, sched, batchSize, epochs, seed, lossEvery, patience, placement, clipNorm,
                decayPolicy);
        if (!(valFraction > 0 && valFraction <= 0.5)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 0.5], got " + valFraction);
        }
        if (checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be 0 or more steps, got " + checkpointEvery);
        }
        if (checkpointEvery > 0 && checkpointDir == null) {
            throw new IllegalArgumentException("--checkpoint-every needs --checkpoint-dir");
        }
        if (resumed != null) {
            boolean stoppedEarly = patience > 0 && resumed.sinceBest() >= patience;
            if (resumed.epoch() >= epochs || stoppedEarly) {
                out.printf(Locale.ROOT, "nothing to do: the checkpoint %s has finished its training (%s, step %d)%s%n", resumeFile,
                        stoppedEarly ? "stopped early after epoch " + resumed.history().size()
                                : resumed.epoch() + " of " + epochs + " epochs",
                        resumed.step(), stoppedEarly ? "" : "; give --epochs N (more than " + resumed.epoch() + ") to train further");
                return 0;
            }
        }

        int bucketFloats = dist.bucketFloats();
        String allReduce = dist.allReduce();
        if (job != null) {
            job.checkBatch(batchSize);
        }
        // every output path is checked before the data is read and training starts (by the rank that writes them)
        RunOutputs where = job == null || job.writer() ? outputs(resumed, resumeFile) : RunOutputs.elsewhere();

        DataSource.Prepared prepared = DataSource.prepare(data, dataDir, labelColumn, header, testFraction, seed, valFraction, normalize);
        DataSource.Loaded source = prepared.source();
        InputTransform transform = prepared.transform();
        Dataset train = prepared.train();
        Dataset val = prepared.val();
        Dataset test = prepared.test();
        Path csv = DataSource.csvFile(data);
        String csvSha256 = csv == null ? null : DataSource.sha256(csv);
        checkData(train);
        // buffers hold the largest batch a split uses, not -b itself: -b above the rows is one batch of every row
        int capacity = Math.max(1, Math.min(job == null ? batchSize : dev.salvo.train.DataParallel.maxShard(batchSize, job.size()),
                Math.max(train.rows(), Math.max(val.rows(), test.rows()))));
        config = config.withBatchSize(Math.min(batchSize, train.rows()));
        NetworkSpec net = fromFile != null ? NetFiles.fit(netFile, fromFile, train, data) : network(train, act, lossKind, initKind);
        String fingerprint = ResumeOptions.fingerprint(train, val);
        String trainedOn = resumed == null ? null : resumed.info().get(ResumeOptions.DATA_KEY);
        if (trainedOn != null && !trainedOn.equals(fingerprint)) {
            throw new IllegalArgumentException("--resume: the training and validation rows of --data " + data
                    + " differ from those the checkpoint was trained on (SHA-256 " + fingerprint.substring(0, 16) + " vs "
                    + trainedOn.substring(0, 16) + ")");
        }

        String deviceSource = device != null ? "--device"
                : System.getProperty("salvo.device") != null ? "-Dsalvo.device" : "SALVO_DEVICE";
        if (job != null) {
            job.start();
            job.agree(Facts.ofRun(ResumeOptions.of(spec), net, fingerprint, resumed, dist, lossEvery, Devices.Selector.parse(job.device())), err);
        }
        Devices.Selection sel = opt(deviceSource, () -> Devices.open(job == null ? device : job.device()));
        try (Device dev = sel.device();
             Model model = new Model(dev, net, seed, capacity);
             dev.salvo.train.DataParallel dp = job == null ? null
                     : new dev.salvo.train.DataParallel(job.communicatorFor(dev, allReduce), model, bucketFloats);
             Trainer trainer = new Trainer(model, config, dp)) {
            if (resumed != null) {
                trainer.resume(resumed);
            }
            if (job != null) {
                console.println(job.rankLine(dev, dp, dp.broadcastParameters()));
                console.flush();
            }
            Map<String, String> info = new LinkedHashMap<>(ResumeOptions.of(spec));
            info.put(ResumeOptions.RUN_DIR_KEY, where.runDir().toAbsolutePath().normalize().toString());
            info.put(ResumeOptions.DATA_KEY, fingerprint);
            trainer.checkpointInfo(info);
            int stepsPerEpoch = trainer.stepsPerEpoch(train.rows());
            List<EpochStats> before = resumed == null ? List.of() : resumed.history();
            List<Long> beforeSteps = new ArrayList<>();
            for (EpochStats e : before) {
                beforeSteps.add((long) e.epoch() * stepsPerEpoch);
            }
            RunFolder run = RunFolder.open(where.runDir(), where.mode(), dev.info().id(), before, beforeSteps,
                    resumed == null ? List.of() : resumed.epochDevices());
            boolean writes = job == null || job.writer();
            out.println("device: " + sel.report().get(0));
            for (String line : sel.report().subList(1, sel.report().size())) {
                out.println("        " + line);
            }
            out.printf(Locale.ROOT, "data:   %s: %d train, %d validation, %d test rows (%s; normalize %s)%n", source.name(),
                    train.rows(), val.rows(), test.rows(), source.origin(), normalize);
            out.printf(Locale.ROOT, "model:  %s, %d parameters, init sha256 %s%n", net.describe(), model.layout().count(),
                    model.initialSha256().substring(0, 16));
            DecayPolicy decayUsed = decayPolicy != null ? decayPolicy : net.decay();
            out.printf(Locale.ROOT, "train:  %s%s%s, lr %s %s, batch %d, %d epochs, seed %d%n", opt.describe(),
                    decayUsed == DecayPolicy.ALL || opt.weightDecay() == 0 ? "" : " (decay on " + decayUsed.cliName() + ")",
                    clipNorm > 0 ? ", clip-norm " + clipNorm : "", lr, sched.describe(), batchSize, epochs, seed);
            out.println(trainer.memoryLine());
            if (resumed != null) {
                out.printf(Locale.ROOT, "resume: %s %d, step %d, from %s; options restored from it%s%n",
                        resumed.stepInEpoch() > 0 ? "within epoch" : "after epoch",
                        resumed.epoch() + (resumed.stepInEpoch() > 0 ? 1 : 0), resumed.step(), resumeFile,
                        restored.isEmpty() ? " (all defaults)" : ": " + String.join(" ", restored));
                if (checkpointEpochs > 0 && checkpointEpochs != epochs && sched instanceof Schedule.Cosine) {
                    out.printf(Locale.ROOT, "        --epochs %d (the checkpoint's run had %d): the cosine schedule now ends at epoch %d,"
                            + " continuing from step %d%n", epochs, checkpointEpochs, epochs, resumed.step());
                }
            }
            out.println("run:    " + run.dir() + (where.mode() == RunFolder.Mode.CONTINUE ? " (continued)" : ""));
            out.flush();
            ProgressBar bar = new ProgressBar(out, err, !noProgress) {
                @Override
                public void onEpoch(EpochStats s) {
                    super.onEpoch(s);
                    run.epoch(s, (long) s.epoch() * stepsPerEpoch);
                }
            };
            Checkpoint.Policy policy = checkpointDir == null || !writes ? null
                    : new Checkpoint.Policy(checkpointDir, checkpointEvery > 0 ? checkpointEvery : Integer.MAX_VALUE, checkpointEvery == 0);
            interrupts.onFirst(trainer::requestStop);
            History h;
            try {
                h = trainer.fit(train, val, bar, policy);
            } catch (TrainingDivergedException e) {
                bar.clear();
                throw e;
            }
            Map<String, String> facts = facts(source, csv, csvSha256, net, dev, h, opt, model);
            Map<String, Object> summary = summary(source, net, model, opt, sched, dev, h, run);
            if (dp != null) {
                summary.put("distributed", Facts.summary(dp, job));
            }
            Path modelFile = run.dir().resolve(RunFolder.MODEL);
            if (h.interrupted()) {
                bar.clear();
                Path ckpt = policy != null ? policy.file() : run.dir().resolve(RunFolder.CHECKPOINT);
                trainer.checkpoint(ckpt);
                facts.put("interrupted_at_step", Long.toString(trainer.step()));
                ModelFile.save(modelFile, net, model.parametersToHost(), model.stateToHost(), transform, facts);
                summary.put("interrupted", true);
                summary.put("stopped_at_step", trainer.step());
                summary.put("checkpoint", ckpt.toString());
                summary.put("resume_with", "salvo train --resume " + ckpt.getParent());
                run.summary(summary);
                boolean drew = run.curves(source.name() + " " + net.describe());
                out.printf(Locale.ROOT, "interrupted at epoch %d, step %d: wrote %s (%s%s, %s, %s) and the checkpoint %s;"
                                + " continue with: salvo train --resume %s%n",
                        trainer.epochsDone() + 1, trainer.step(), run.dir(), RunFolder.METRICS, drew ? ", " + RunFolder.CURVES : "",
                        RunFolder.SUMMARY, RunFolder.MODEL, ckpt, ckpt.getParent());
                out.flush();
                return Interrupts.EXIT;
            }
            Evaluation ev = trainer.evaluate(test);
            if (job != null) {
                job.finalLine(console, trainer.step(), dp.parametersSha256());
            }
            out.printf(Locale.ROOT, "%stest accuracy %s (%d rows), test loss %.4f%n",
                    h.stoppedEarly() ? "early stop: kept epoch " + h.bestEpoch() + "; " : "",
                    Format.percent(ev.accuracy()), ev.rows(), ev.loss());
            out.printf(Locale.ROOT, "wall time %.2fs, %d steps, %.0f samples/s, device %s (%s)%n", h.seconds(), h.steps(),
                    h.samples() / h.seconds(), dev.info().id(), dev.info().name());

            float[] params = model.parametersToHost();
            float[] state = model.stateToHost();
            facts.put("test_accuracy", String.format(Locale.ROOT, "%.6f", ev.accuracy()));
            ModelFile.save(modelFile, net, params, state, transform, facts);
            if (save != null && writes) {
                ModelFile.save(save, net, params, state, transform, facts);
            }
            summary.put("test_accuracy", ev.accuracy());
            summary.put("test_loss", ev.loss());
            run.summary(summary);
            boolean drew = run.curves(source.name() + " " + net.describe());
            out.println("wrote " + run.dir() + ": " + RunFolder.METRICS + ", " + RunFolder.SUMMARY + ", "
                    + (drew ? RunFolder.CURVES + ", " : "") + RunFolder.MODEL + (save == null ? "" : "; model also at " + save)
                    + (drew || run.epochs().isEmpty() ? "" : " (curves.png skipped: this Java runtime has no java.desktop module)")
                    + (policy == null ? "" : "; checkpoint " + policy.file()));
            if (interrupts.requested()) {
                out.println("interrupted after the last step: the run folder is complete");
                out.flush();
                return Interrupts.EXIT;
            }
        }
        return 0;
    }

    /** Where a run writes: {@link RunOutputs#check}. */
    RunOutputs outputs(Checkpoint.Snapshot resumed, Path resumeFile) {
        return RunOutputs.check(save, overwrite, checkpointDir, outDir, resumed, resumeFile);
    }

    private Map<String, String> facts(DataSource.Loaded source, Path csv, String csvSha256, NetworkSpec net, Device dev, History h,
                                      Optimizer opt, Model model) {
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
        facts.putAll(ClassNames.facts(source.name()));
        facts.put("normalize", normalize);
        facts.put("device", dev.info().id() + " (" + dev.info().name() + ")");
        facts.put("epochs", Integer.toString(h.epochs().size()));
        facts.put("optimizer", opt.describe());
        facts.put("learning_rate", Double.toString(lr));
        facts.put("batch_size", Integer.toString(batchSize));
        facts.put("seed", Long.toString(seed));
        facts.put("init_sha256", model.initialSha256());
        facts.put("created", Instant.now().toString());
        return facts;
    }

    private Map<String, Object> summary(DataSource.Loaded source, NetworkSpec net, Model model, Optimizer opt, Schedule sched,
                                        Device dev, History h, RunFolder run) {
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
        summary.put("epochs", epochs);
        summary.put("epochs_run", h.epochs().size());
        summary.put("seed", seed);
        summary.put("device", dev.info().id());
        summary.put("device_name", dev.info().name());
        summary.put("init_sha256", model.initialSha256());
        summary.put("wall_seconds", h.seconds());
        summary.put("samples_per_second", h.samples() / h.seconds());
        summary.put("stopped_early", h.stoppedEarly());
        summary.put("interrupted", false);
        if (resume != null) {
            summary.put("resumed_from", resume.toString());
        }
        double trainSeconds = 0;
        List<Map<String, Object>> epochRows = new ArrayList<>();
        for (EpochStats e : run.epochs()) {
            trainSeconds += e.seconds();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("epoch", e.epoch());
            row.put("train_loss", e.trainLoss());
            row.put("val_loss", Double.isNaN(e.valLoss()) ? null : e.valLoss());
            row.put("val_accuracy", Double.isNaN(e.valAccuracy()) ? null : e.valAccuracy());
            row.put("learning_rate", e.learningRate());
            row.put("seconds", e.seconds());
            epochRows.add(row);
        }
        summary.put("train_seconds_all_epochs", trainSeconds);
        summary.put("history", epochRows);
        summary.put("model", run.dir().resolve(RunFolder.MODEL).toString());
        return summary;
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
    static <T> T opt(String name, Supplier<T> parse) {
        try {
            return parse.get();
        } catch (dev.salvo.util.InputFiles.Unusable e) {
            throw e; // names its file and variable already (a kernel or config file read while opening the device)
        } catch (IllegalArgumentException e) {
            String m = e.getMessage();
            throw new IllegalArgumentException(m.startsWith("--") ? m : name + ": " + m, e);
        }
    }
}
