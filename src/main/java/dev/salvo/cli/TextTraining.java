package dev.salvo.cli;

import dev.salvo.data.InputTransform;
import dev.salvo.data.TextCorpus;
import dev.salvo.data.Vocabulary;
import dev.salvo.device.Device;
import dev.salvo.device.Devices;
import dev.salvo.io.ModelFile;
import dev.salvo.nn.Model;
import dev.salvo.nn.NetworkSpec;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.EpochStats;
import dev.salvo.train.Evaluation;
import dev.salvo.train.History;
import dev.salvo.train.Optimizer;
import dev.salvo.train.RunFolder;
import dev.salvo.train.Schedule;
import dev.salvo.train.TextWindows;
import dev.salvo.train.TrainConfig;
import dev.salvo.nn.DecayPolicy;
import dev.salvo.train.Trainer;
import dev.salvo.train.TrainingDivergedException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code salvo train --data text:PATH} (or {@code --data kjv-genesis}): a character-level language
 * model. The network is {@code --gpt layers,heads,embd} ({@code dev.salvo.nn.Gpt.spec} with the data's
 * vocabulary and {@code --context}, default 64) or a {@code --net} file whose output is
 * {@code (T, V)} with V the data's vocabulary size. Training runs {@code --steps} steps in
 * "epochs" of {@code --eval-every} steps, validating after each ({@link TextWindows}). The
 * vocabulary is saved with the model and the checkpoint ({@link Vocabulary#METADATA_KEY}).
 */
final class TextTraining {

    /** Default {@code --context} of {@code --gpt}: nanoGPT's baby GPT. */
    static final int DEFAULT_CONTEXT = 64;

    /** Model-file metadata key of the context (the window length). */
    static final String CONTEXT_KEY = "salvo.context";

    private TextTraining() {
    }

    /** True when {@code --data} names text: {@code text:PATH} or the embedded {@link TextCorpus#GENESIS}. */
    static boolean isText(String data) {
        String d = data.trim();
        return d.startsWith("text:") || d.equals(TextCorpus.GENESIS);
    }

    /** The text {@code data} names, with its own vocabulary. */
    static TextCorpus load(String data, int context, double valFraction) {
        String d = data.trim();
        if (d.equals(TextCorpus.GENESIS)) {
            return TextCorpus.of(TextCorpus.GENESIS + " (embedded)", TextCorpus.genesis(), context, valFraction);
        }
        return TextCorpus.read(Path.of(d.substring("text:".length())), context, valFraction);
    }

    /** The text {@code data} names, through a model's vocabulary. */
    static TextCorpus load(String data, Vocabulary vocab, int context, double valFraction) {
        String d = data.trim();
        if (d.equals(TextCorpus.GENESIS)) {
            return TextCorpus.of(TextCorpus.GENESIS + " (embedded)", TextCorpus.genesis(), vocab, context, valFraction);
        }
        return TextCorpus.read(Path.of(d.substring("text:".length())), vocab, context, valFraction);
    }

    /** The vocabulary a model file holds, or an error naming the file. */
    static Vocabulary vocabulary(Path file, Map<String, String> metadata) {
        String v = metadata.get(Vocabulary.METADATA_KEY);
        if (v == null) {
            throw new IllegalArgumentException("--model " + file + ": no vocabulary (__metadata__." + Vocabulary.METADATA_KEY
                    + "): not a language model trained on text");
        }
        try {
            return Vocabulary.parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--model " + file + ": __metadata__." + Vocabulary.METADATA_KEY + ": " + e.getMessage());
        }
    }

    static int train(TrainCommand c, Interrupts interrupts, DistributedRun job) {
        PrintWriter console = c.spec.commandLine().getOut();
        PrintWriter out = job == null ? console : job.out(console);
        PrintWriter err = c.spec.commandLine().getErr();
        picocli.CommandLine.ParseResult given = c.spec.commandLine().getParseResult();

        Checkpoint.Snapshot resumed = null;
        Path resumeFile = null;
        List<String> restored = List.of();
        if (c.resume != null) {
            resumeFile = Files.isDirectory(c.resume) ? c.resume.resolve(Checkpoint.FILE) : c.resume;
            resumed = Checkpoint.load(c.resume);
            restored = ResumeOptions.restore(c.spec, resumed);
            if (c.checkpointDir == null) {
                c.checkpointDir = resumeFile.toAbsolutePath().getParent();
            }
        }
        for (String o : new String[] {"--epochs", "--layers", "--activation", "--loss", "--init", "--normalize", "--label-column",
                "--header", "--test-fraction", "--lr-step-epochs"}) {
            if (given.hasMatchedOption(o) && !(resumed != null && o.equals("--epochs"))) {
                throw new IllegalArgumentException(o + " does not apply to text data (" + c.data.trim() + "): "
                        + (o.equals("--epochs") ? "give --steps (and --eval-every)" : "the network is --gpt or --net"));
            }
        }
        if ((c.gpt == null) == (c.netFile == null)) {
            throw new IllegalArgumentException(c.gpt == null ? "text data needs a network: --gpt layers,heads,embd or --net FILE"
                    : "--gpt and --net cannot be combined");
        }
        if (c.gpt != null && c.gpt.size() != 3) {
            throw new IllegalArgumentException("--gpt must be layers,heads,embd (three numbers), got " + c.gpt);
        }
        NetworkSpec fromFile = c.netFile == null ? null : NetFiles.read(c.netFile, given);
        if (fromFile != null && fromFile.positions() != fromFile.inputs()) {
            throw new IllegalArgumentException("--net " + c.netFile + ": not a language model: text data needs an input of T token ids"
                    + " and a (T, V) cross-entropy output, this network takes " + fromFile.inputs() + " inputs and labels "
                    + fromFile.positions() + " positions");
        }
        int context;
        if (fromFile != null) {
            context = fromFile.inputs();
            if (c.context != null && c.context != context) {
                throw new IllegalArgumentException("--context " + c.context + " disagrees with --net " + c.netFile + ", whose input is "
                        + context + " tokens");
            }
        } else {
            context = c.context == null ? DEFAULT_CONTEXT : c.context;
        }
        if (context < 1) {
            throw new IllegalArgumentException("--context must be at least 1, got " + context);
        }
        if (c.steps < 1) {
            throw new IllegalArgumentException("--steps must be at least 1, got " + c.steps);
        }
        if (c.evalEvery < 1) {
            throw new IllegalArgumentException("--eval-every must be at least 1, got " + c.evalEvery);
        }
        if (c.evalWindows < 1) {
            throw new IllegalArgumentException("--eval-windows must be at least 1, got " + c.evalWindows);
        }
        if (!(c.valFraction > 0 && c.valFraction <= 0.5)) {
            throw new IllegalArgumentException("--val-fraction must be in (0, 0.5], got " + c.valFraction);
        }
        if (c.checkpointEvery < 0) {
            throw new IllegalArgumentException("--checkpoint-every must be 0 or more steps, got " + c.checkpointEvery);
        }
        if (c.checkpointEvery > 0 && c.checkpointDir == null) {
            throw new IllegalArgumentException("--checkpoint-every needs --checkpoint-dir");
        }
        int epochs = Math.toIntExact((c.steps + c.evalEvery - 1) / c.evalEvery);
        Optimizer opt = TrainCommand.opt("--optimizer", () -> Optimizer.parse(c.optimizer, c.momentum, c.weightDecay, c.beta1, c.beta2,
                c.eps));
        DecayPolicy decayPolicy = c.decayParams == null ? null : TrainCommand.opt("--decay-params", () -> DecayPolicy.parse(c.decayParams));
        Schedule sched = TrainCommand.opt("--schedule", () -> Schedule.parse(c.schedule, c.warmup, c.stepEpochs, c.gamma, c.minFactor));
        TrainConfig.ResidentData placement = TrainCommand.opt("--resident-data", () -> TrainConfig.ResidentData.parse(c.residentData));
        TrainConfig config = new TrainConfig(opt, c.lr, sched, c.batchSize, epochs, c.seed, c.lossEvery, c.patience, placement,
                c.clipNorm, decayPolicy);
        if (resumed != null && resumed.step() >= c.steps) {
            out.printf(Locale.ROOT, "nothing to do: the checkpoint %s has finished its training (step %d of --steps %d);"
                    + " give --steps N (more than %d) to train further%n", resumeFile, resumed.step(), c.steps, resumed.step());
            return 0;
        }
        int bucketFloats = c.dist.bucketFloats();
        String allReduce = c.dist.allReduce();
        if (job != null) {
            job.checkBatch(c.batchSize);
        }
        RunOutputs where = job == null || job.writer() ? c.outputs(resumed, resumeFile) : RunOutputs.elsewhere();

        TextCorpus corpus = load(c.data, context, c.valFraction);
        Vocabulary vocab = corpus.vocabulary();
        NetworkSpec net;
        if (fromFile != null) {
            if (fromFile.classes() != vocab.size()) {
                throw new IllegalArgumentException("--net " + c.netFile + ": the output predicts " + fromFile.classes()
                        + " tokens, but the vocabulary of " + corpus.name() + " has " + vocab.size() + " characters");
            }
            net = fromFile;
        } else {
            net = TrainCommand.opt("--gpt", () -> dev.salvo.nn.Gpt.spec(c.gpt.get(0), c.gpt.get(1), c.gpt.get(2), context, vocab.size()));
        }
        TextWindows text = new TextWindows(corpus.name(), corpus.tokens(), corpus.trainLength(), vocab.size(), context, c.evalEvery,
                c.steps, c.evalWindows);
        String fingerprint = fingerprint(corpus);
        String trainedOn = resumed == null ? null : resumed.info().get(ResumeOptions.DATA_KEY);
        if (trainedOn != null && !trainedOn.equals(fingerprint)) {
            throw new IllegalArgumentException("--resume: the text of --data " + c.data + " differs from the text the checkpoint was"
                    + " trained on (SHA-256 " + fingerprint.substring(0, 16) + " vs " + trainedOn.substring(0, 16) + ")");
        }
        int perRank = job == null ? c.batchSize : dev.salvo.train.DataParallel.maxShard(c.batchSize, job.size());
        int capacity = Math.max(perRank, Math.min(perRank * 4, Math.max(1, text.validationStarts().length)));
        if (job != null) {
            job.start();
            job.agree(Facts.ofRun(ResumeOptions.of(c.spec), net, fingerprint, resumed, c.dist, c.lossEvery,
                    Devices.Selector.parse(job.device())), err);
        }

        String deviceSource = c.device != null ? "--device"
                : System.getProperty("salvo.device") != null ? "-Dsalvo.device" : "SALVO_DEVICE";
        Devices.Selection sel = TrainCommand.opt(deviceSource, () -> Devices.open(job == null ? c.device : job.device()));
        try (Device dev = sel.device();
             Model model = new Model(dev, net, c.seed, capacity);
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
            Map<String, String> info = new LinkedHashMap<>(ResumeOptions.of(c.spec));
            info.put(ResumeOptions.RUN_DIR_KEY, where.runDir().toAbsolutePath().normalize().toString());
            info.put(ResumeOptions.DATA_KEY, fingerprint);
            info.put(Vocabulary.METADATA_KEY, vocab.chars());
            trainer.checkpointInfo(info);
            List<EpochStats> before = resumed == null ? List.of() : resumed.history();
            List<Long> beforeSteps = new ArrayList<>();
            for (EpochStats e : before) {
                beforeSteps.add(Math.min(c.steps, (long) e.epoch() * c.evalEvery));
            }
            RunFolder run = RunFolder.open(where.runDir(), where.mode(), dev.info().id(), before, beforeSteps,
                    resumed == null ? List.of() : resumed.epochDevices());
            out.println("device: " + sel.report().get(0));
            for (String line : sel.report().subList(1, sel.report().size())) {
                out.println("        " + line);
            }
            out.printf(Locale.ROOT, "data:   %s: %d characters, vocabulary %d, %d train / %d validation (the last %s), context %d,"
                            + " %d validation windows%n", corpus.name(), corpus.length(), vocab.size(), corpus.trainLength(),
                    corpus.validationLength(), c.valFraction, context, text.validationStarts().length);
            out.printf(Locale.ROOT, "model:  %s, %d parameters, init sha256 %s%n", net.describe(), model.layout().count(),
                    model.initialSha256().substring(0, 16));
            DecayPolicy decayUsed = decayPolicy != null ? decayPolicy : net.decay();
            out.printf(Locale.ROOT, "train:  %s%s%s, lr %s %s, batch %d, %d steps (validation every %d), seed %d%n", opt.describe(),
                    decayUsed == DecayPolicy.ALL || opt.weightDecay() == 0 ? "" : " (decay on " + decayUsed.cliName() + ")",
                    c.clipNorm > 0 ? ", clip-norm " + c.clipNorm : "", c.lr, sched.describe(), c.batchSize, c.steps, c.evalEvery, c.seed);
            out.println(trainer.memoryLine());
            if (resumed != null) {
                out.printf(Locale.ROOT, "resume: step %d, from %s; options restored from it%s%n", resumed.step(), resumeFile,
                        restored.isEmpty() ? " (all defaults)" : ": " + String.join(" ", restored));
            }
            out.println("run:    " + run.dir() + (where.mode() == RunFolder.Mode.CONTINUE ? " (continued)" : ""));
            out.flush();
            ProgressBar bar = new ProgressBar(out, err, !c.noProgress) {
                @Override
                public void onEpoch(EpochStats s) {
                    super.onEpoch(s);
                    run.epoch(s, Math.min(c.steps, (long) s.epoch() * c.evalEvery));
                }
            };
            Checkpoint.Policy policy = c.checkpointDir == null || (job != null && !job.writer()) ? null
                    : new Checkpoint.Policy(c.checkpointDir, c.checkpointEvery > 0 ? c.checkpointEvery : Integer.MAX_VALUE,
                    c.checkpointEvery == 0);
            interrupts.onFirst(trainer::requestStop);
            History h;
            try {
                h = trainer.fit(text, bar, policy);
            } catch (TrainingDivergedException e) {
                bar.clear();
                throw e;
            }
            Map<String, String> facts = new LinkedHashMap<>();
            facts.put("dataset", corpus.name());
            facts.put(Vocabulary.METADATA_KEY, vocab.chars());
            facts.put(CONTEXT_KEY, Integer.toString(context));
            facts.put("device", dev.info().id() + " (" + dev.info().name() + ")");
            facts.put("steps", Long.toString(trainer.step()));
            facts.put("optimizer", opt.describe());
            facts.put("learning_rate", Double.toString(c.lr));
            facts.put("batch_size", Integer.toString(c.batchSize));
            facts.put("seed", Long.toString(c.seed));
            facts.put("init_sha256", model.initialSha256());
            facts.put("created", Instant.now().toString());
            Map<String, Object> summary = new LinkedHashMap<>();
            summary.put("command", "salvo train");
            summary.put("dataset", corpus.name());
            summary.put("characters", corpus.length());
            summary.put("vocabulary", vocab.size());
            summary.put("context", context);
            summary.put("network", net.describe());
            summary.put("parameters", model.layout().count());
            summary.put("optimizer", opt.describe());
            summary.put("learning_rate", c.lr);
            summary.put("schedule", sched.describe());
            summary.put("batch_size", c.batchSize);
            summary.put("steps", c.steps);
            summary.put("eval_every", c.evalEvery);
            summary.put("seed", c.seed);
            summary.put("device", dev.info().id());
            summary.put("device_name", dev.info().name());
            summary.put("wall_seconds", h.seconds());
            summary.put("tokens_per_second", h.samples() * (double) context / h.seconds());
            summary.put("stopped_early", h.stoppedEarly());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (EpochStats e : run.epochs()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("epoch", e.epoch());
                row.put("train_loss", e.trainLoss());
                row.put("val_loss", e.valLoss());
                row.put("val_accuracy", e.valAccuracy());
                row.put("learning_rate", e.learningRate());
                row.put("seconds", e.seconds());
                rows.add(row);
            }
            summary.put("history", rows);
            Path modelFile = run.dir().resolve(RunFolder.MODEL);
            summary.put("model", modelFile.toString());
            InputTransform identity = InputTransform.identity(net.inputs());
            if (h.interrupted()) {
                bar.clear();
                Path ckpt = policy != null ? policy.file() : run.dir().resolve(RunFolder.CHECKPOINT);
                trainer.checkpoint(ckpt);
                facts.put("interrupted_at_step", Long.toString(trainer.step()));
                ModelFile.save(modelFile, net, model.parametersToHost(), model.stateToHost(), identity, facts);
                summary.put("interrupted", true);
                summary.put("checkpoint", ckpt.toString());
                run.summary(summary);
                out.printf(Locale.ROOT, "interrupted at step %d: wrote %s and the checkpoint %s; continue with: salvo train --resume %s%n",
                        trainer.step(), run.dir(), ckpt, ckpt.getParent());
                out.flush();
                return Interrupts.EXIT;
            }
            if (job != null) {
                job.finalLine(console, trainer.step(), dp.parametersSha256());
            }
            EpochStats last = h.epochs().isEmpty() ? null : h.epochs().get(h.epochs().size() - 1);
            Evaluation val = last != null && !h.stoppedEarly() ? new Evaluation(last.valLoss(), last.valAccuracy(), 0)
                    : trainer.evaluateText(text);
            out.printf(Locale.ROOT, "%svalidation loss %.4f, next-character accuracy %s (%d windows of %d)%n",
                    h.stoppedEarly() ? "early stop: kept epoch " + h.bestEpoch() + "; " : "", val.loss(), Format.percent(val.accuracy()),
                    text.validationStarts().length, context);
            out.printf(Locale.ROOT, "wall time %.2fs, %d steps, %.0f tokens/s, device %s (%s)%n", h.seconds(), h.steps(),
                    h.samples() * (double) context / h.seconds(), dev.info().id(), dev.info().name());
            facts.put("val_loss", String.format(Locale.ROOT, "%.6f", val.loss()));
            float[] params = model.parametersToHost();
            float[] state = model.stateToHost();
            ModelFile.save(modelFile, net, params, state, identity, facts);
            if (dp != null) {
                summary.put("distributed", Facts.summary(dp, job));
            }
            if (c.save != null && (job == null || job.writer())) {
                ModelFile.save(c.save, net, params, state, identity, facts);
            }
            summary.put("val_loss", val.loss());
            summary.put("val_accuracy", val.accuracy());
            summary.put("interrupted", false);
            run.summary(summary);
            boolean drew = run.curves(corpus.name() + " " + net.describe());
            out.println("wrote " + run.dir() + ": " + RunFolder.METRICS + ", " + RunFolder.SUMMARY + ", "
                    + (drew ? RunFolder.CURVES + ", " : "") + RunFolder.MODEL + (c.save == null ? "" : "; model also at " + c.save)
                    + (c.checkpointDir == null ? "" : "; checkpoint " + policy.file()));
            out.flush();
            if (interrupts.requested()) {
                return Interrupts.EXIT;
            }
        }
        return 0;
    }

    /** SHA-256 of the vocabulary, the split point and every token: a resume must see the same text. */
    static String fingerprint(TextCorpus corpus) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(corpus.vocabulary().chars().getBytes(StandardCharsets.UTF_8));
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            buf.putInt(corpus.trainLength()).putInt(corpus.length());
            md.update(buf.array(), 0, buf.position());
            int[] t = corpus.tokens();
            for (int i = 0; i < t.length; ) {
                buf.clear();
                int k = Math.min(t.length - i, buf.capacity() / 4);
                buf.asIntBuffer().put(t, i, k);
                md.update(buf.array(), 0, 4 * k);
                i += k;
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
