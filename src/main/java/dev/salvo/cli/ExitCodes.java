package dev.salvo.cli;

/**
 * The exit codes of the {@code salvo} commands, as lines of picocli's {@code exitCodeList}
 * ({@code "code:meaning"}): every command's {@code --help} ends with the codes it can return.
 * The numbers are {@link Main}'s constants.
 */
final class ExitCodes {

    static final String HEADING = "%nExit codes:%n";
    static final String OK = "0:success";
    static final String FAILED = "1:an unexpected failure (the error on stderr, with its stack trace when it is a bug)";
    static final String CHECK_FAILED = "1:a check failed (the table marks it FAIL), or an unexpected failure";
    static final String USAGE = "2:bad input: an option, a file or data that does not fit (one line naming it)";
    static final String UNAVAILABLE = "3:a device named with --device is unavailable (the line says why), its kernels "
            + "do not compile (file, device and build log) or it is out of memory (the bytes asked and free)";
    static final String DIVERGED = "4:training diverged: a non-finite loss (the epoch, step and layer are named; "
            + "the model keeps the weights from before that step)";
    static final String INTERRUPTED = "130:interrupted by Ctrl-C (SIGINT) or SIGTERM after the step in progress: "
            + "the run folder and a checkpoint to --resume from are written; a second signal quits at once";

    private ExitCodes() {
    }
}
