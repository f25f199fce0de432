package dev.nodekit.common.fs;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** A {@link DirectoryLock} was not acquired within its bounded wait. Carries the lock file and the wait. */
public final class LockTimeoutException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path lockFile;
    private final Duration waited;

    LockTimeoutException(Path lockFile, Duration waited, String holder) {
        super("timed out after " + waited.toMillis() + "ms waiting for lock " + lockFile + holder);
        this.lockFile = lockFile;
        this.waited = waited;
    }

    /** The lock file that stayed busy. */
    public Path lockFile() {
        return lockFile;
    }

    /** How long we waited. */
    public Duration waited() {
        return waited;
    }
}
