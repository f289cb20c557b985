package dev.salvo.cli;

import dev.salvo.io.OutputPaths;
import dev.salvo.train.Checkpoint;
import dev.salvo.train.RunFolder;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;

/** Where a run writes ({@code salvo train}, text or not), checked before any work. */
record RunOutputs(Path runDir, RunFolder.Mode mode) {

    /**
     * Checks every output path: {@code --save} (a writable regular file, not existing unless
     * {@code --overwrite}), {@code --checkpoint-dir} (writable; not holding a checkpoint of another
     * run, or a later one than the run resumed, unless {@code --overwrite}) and the run folder
     * ({@code --out}, or the resumed run's own folder, or a new {@code runs/<timestamp>}).
     */
    static RunOutputs check(Path save, boolean overwrite, Path checkpointDir, Path outDir, Checkpoint.Snapshot resumed,
                            Path resumeFile) {
        if (save != null) {
            Path target = OutputPaths.file("--save", save);
            if (Files.exists(target) && !overwrite) {
                throw new IllegalArgumentException("--save " + save + ": already exists; pass --overwrite to replace it");
            }
        }
        if (checkpointDir != null) {
            OutputPaths.directory("--checkpoint-dir", checkpointDir);
            Path existing = checkpointDir.resolve(Checkpoint.FILE);
            OutputPaths.file("--checkpoint-dir", existing);
            if (Files.exists(existing, LinkOption.NOFOLLOW_LINKS) && !overwrite && !sameFile(existing, resumeFile)) {
                String what;
                long step = -1;
                try {
                    Checkpoint.Snapshot s = Checkpoint.load(existing);
                    step = s.step();
                    what = "a checkpoint at epoch " + s.history().size() + ", step " + s.step();
                } catch (IllegalArgumentException e) {
                    what = "a checkpoint file";
                }
                if (resumed == null) {
                    throw new IllegalArgumentException("--checkpoint-dir " + checkpointDir + ": already holds " + what
                            + "; resume it with --resume " + checkpointDir + ", or pass --overwrite to replace it");
                }
                if (step < 0 || step > resumed.step()) {
                    throw new IllegalArgumentException("--checkpoint-dir " + checkpointDir + ": already holds " + what
                            + ", later than the step " + resumed.step() + " resumed; pass --overwrite to replace it");
                }
            }
        }
        String recorded = resumed == null ? null : resumed.info().get(ResumeOptions.RUN_DIR_KEY);
        Path recordedDir = recorded == null ? null : Path.of(recorded);
        Path dir = outDir;
        if (dir == null && recordedDir != null && Files.isDirectory(recordedDir)) {
            dir = recordedDir;
        }
        RunFolder.Mode mode = overwrite ? RunFolder.Mode.OVERWRITE : RunFolder.Mode.NEW;
        if (dir != null && recordedDir != null && sameFile(dir, recordedDir)) {
            mode = RunFolder.Mode.CONTINUE;
        }
        return new RunOutputs(RunFolder.prepare(dir, mode), mode);
    }

    private static boolean sameFile(Path a, Path b) {
        if (a == null || b == null) {
            return false;
        }
        try {
            return Files.exists(a) && Files.exists(b) && Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /**
     * A scratch run folder for a rank other than 0 of a data-parallel job, which writes nothing
     * the user keeps: a fresh temporary folder, deleted when the JVM exits.
     */
    static RunOutputs elsewhere() {
        try {
            Path dir = java.nio.file.Files.createTempDirectory("salvo-rank-");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try (java.util.stream.Stream<Path> files = java.nio.file.Files.walk(dir)) {
                    files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (java.io.IOException e) {
                    // a temporary folder left behind
                }
            }));
            return new RunOutputs(dir, RunFolder.Mode.NEW);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot make a temporary folder: " + e.getMessage(), e);
        }
    }
}
