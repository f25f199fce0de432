package dev.nodekit.demo;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Ctrl-C, cooperatively: the shutdown hook only sets a flag and waits; the demo's own thread sees
 * the flag before its next step, tears down and says when it is done. Steps are not interrupted:
 * an interrupt in the middle of a command or an RPC could leave half of a step behind, which the
 * teardown would then have to guess about. Every step is bounded by its own deadlines.
 */
final class Cancellation {
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile boolean requested;

    /** Asks the demo to stop (the shutdown hook). */
    void request() {
        requested = true;
    }

    boolean requested() {
        return requested;
    }

    /** The demo has torn down: the JVM may exit. */
    void done() {
        done.countDown();
    }

    /** Waits until {@link #done()}; false on timeout. */
    boolean awaitDone(Duration limit) {
        try {
            return done.await(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
