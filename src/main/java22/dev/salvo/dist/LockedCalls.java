package dev.salvo.dist;

import java.util.concurrent.locks.ReentrantLock;

/**
 * What the MPI and NCCL communicators share: one lock held by every call into the library, and a
 * closed flag checked under it; library errors and other throwables become {@link DistributedException}.
 */
abstract class LockedCalls {

    final ReentrantLock lock = new ReentrantLock();
    boolean closed;

    /** A call into the library (a downcall's MethodHandle throws Throwable). */
    interface Body {
        void run() throws Throwable;
    }

    /** What a call after {@code close()} says. */
    abstract String closedMessage();

    /** Runs {@code body} holding the lock, once the communicator is checked open. */
    final void call(Body body) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException(closedMessage());
            }
            body.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new DistributedException(t.toString(), t);
        } finally {
            lock.unlock();
        }
    }
}
