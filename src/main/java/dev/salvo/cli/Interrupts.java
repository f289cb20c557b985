package dev.salvo.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) and SIGTERM while a command works: the first signal asks the work to stop
 * gracefully ({@link #onFirst}: the trainer finishes its step and the command writes what it
 * has); a second one halts the JVM at once with {@link #EXIT}. Every file Salvo writes is
 * replaced atomically, so halting mid-write leaves the previous complete file.
 *
 * <p>Installed for the duration of a command ({@link #install}, then {@link #close}, which puts
 * back the handlers that were there before). Where the JVM does not let us handle a signal (it is
 * reserved, or {@code -Xrs}), that signal keeps its default action.
 */
final class Interrupts implements AutoCloseable {

    /** Exit code of a command stopped by SIGINT or SIGTERM (128 + SIGINT's number, as shells report Ctrl-C). */
    static final int EXIT = 130;

    private final AtomicInteger count = new AtomicInteger();
    private final PrintWriter err;
    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();
    private volatile Runnable onFirst = () -> { };
    private volatile boolean quietFirst;

    private Interrupts(PrintWriter err) {
        this.err = err;
    }

    static Interrupts install(PrintWriter err) {
        Interrupts in = new Interrupts(err);
        for (String name : new String[] {"INT", "TERM"}) {
            try {
                Signal s = new Signal(name);
                SignalHandler old = Signal.handle(s, in::handle);
                in.signals.add(s);
                in.previous.add(old);
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                // the JVM keeps this signal for itself: its default action stays
            }
        }
        return in;
    }

    private void handle(Signal s) {
        if (count.incrementAndGet() == 1) {
            onFirst.run(); // first: a write to a full stderr pipe may block this thread
            if (!quietFirst) {
                err.println("\nSIG" + s.getName() + ": stopping after the current step and saving the run (again to quit at once)");
                err.flush();
            }
        } else { // say so, unless stderr blocks (a full pipe): the halt comes within 200 ms either way
            Thread say = new Thread(() -> {
                err.println("\nSIG" + s.getName() + " again: quitting at once (files written so far are complete)");
                err.flush();
            }, "salvo-quit-message");
            say.setDaemon(true);
            say.start();
            try {
                say.join(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            Runtime.getRuntime().halt(EXIT);
        }
    }

    /**
     * A data-parallel rank other than 0 says nothing on the first signal: mpirun forwards a Ctrl-C
     * (and its SIGTERM when it ends a job) to every rank, and rank 0, which saves the run, speaks for them.
     */
    void quietFirst() {
        quietFirst = true;
    }

    /** True once a signal came. */
    boolean requested() {
        return count.get() > 0;
    }

    /** Runs {@code action} on the first signal, or now if one came already. */
    void onFirst(Runnable action) {
        onFirst = action;
        if (requested()) {
            action.run();
        }
    }

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            try {
                Signal.handle(signals.get(i), previous.get(i));
            } catch (IllegalArgumentException e) {
                // nothing to restore
            }
        }
    }
}
