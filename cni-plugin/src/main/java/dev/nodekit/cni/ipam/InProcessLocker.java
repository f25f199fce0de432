package dev.nodekit.cni.ipam;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

/**
 * A {@link FileLocker} for a long-lived process serving many calls at once (the CNI daemon): calls of
 * this JVM queue on a fair in-memory lock per lock file first, and only the one at the head takes
 * the file lock itself (through the wrapped locker, {@link FlockLocker} for interop with the Go
 * host-local and nodekit's exec'd plugins). Without it, 40 parallel ADDs on one network would start
 * 40 {@code flock} children that all wait in the kernel; with it, at most one does, and the JVM's
 * waiters are served in arrival order.
 *
 * <p>Both waits share the caller's bound: what is left of {@code timeout} after the in-memory wait
 * is what the file lock may take (code 11 when the whole bound is used up). One entry per lock file
 * path is kept for the life of the process (a node has a handful of networks).
 */
public final class InProcessLocker implements FileLocker {
    private final FileLocker files;
    private final ConcurrentMap<Path, Semaphore> locks = new ConcurrentHashMap<>();

    /** Queues this JVM's callers per lock file in front of {@code files}. */
    public InProcessLocker(FileLocker files) {
        if (files == null) {
            throw new IllegalArgumentException("files is required");
        }
        this.files = files;
    }

    @Override
    public Held lock(Path lockFile, Duration timeout) throws CniException {
        Semaphore s = locks.computeIfAbsent(lockFile.toAbsolutePath().normalize(), k -> new Semaphore(1, true));
        long start = System.nanoTime();
        try {
            if (!s.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
                throw new CniException(CniError.TRY_AGAIN_LATER, "IPAM lock " + lockFile + " stayed busy for "
                        + timeout.toMillis() + " ms (queued in this process)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CniException(CniError.TRY_AGAIN_LATER, "interrupted while waiting for IPAM lock " + lockFile);
        }
        boolean ok = false;
        try {
            Duration left = timeout.minusNanos(System.nanoTime() - start);
            Held held = files.lock(lockFile, left.isNegative() ? Duration.ZERO : left);
            ok = true;
            return new Both(held, s);
        } finally {
            if (!ok) {
                s.release();
            }
        }
    }

    /** The file lock and this JVM's turn, released in that order. */
    private static final class Both implements Held {
        private final Held file;
        private final Semaphore turn;
        private boolean closed;

        Both(Held file, Semaphore turn) {
            this.file = file;
            this.turn = turn;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                file.close();
            } finally {
                turn.release();
            }
        }
    }
}
