package dev.nodekit.cni.ipam;

import java.nio.file.Path;
import java.time.Duration;

import dev.nodekit.spec.cni.CniException;

/**
 * Takes the exclusive lock that host-local's {@code lock} file stands for. The real implementation
 * ({@link FlockLocker}) uses {@code flock(2)} semantics so that nodekit and the Go host-local exclude
 * each other on the same directory.
 */
public interface FileLocker {

    /**
     * Locks {@code lockFile} (created if missing), waiting at most {@code timeout}.
     *
     * @throws CniException code 11 when the lock stayed busy until the deadline, 999 when it cannot be taken
     */
    Held lock(Path lockFile, Duration timeout) throws CniException;

    /** A held lock; closing releases it. */
    interface Held extends AutoCloseable {
        /** Releases the lock; idempotent. */
        @Override
        void close();
    }
}
