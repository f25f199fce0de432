package dev.nodekit.common.mount;

import java.nio.file.Path;

/**
 * A mount or unmount could not be done: the command failed, the target is taken by something
 * else, or the mount table could not be read. Carries the target it is about.
 */
public final class MountException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient Path target;
    private final boolean conflict;

    MountException(Path target, String message, boolean conflict, Throwable cause) {
        super(message, cause);
        this.target = target;
        this.conflict = conflict;
    }

    /** The mount point the operation was about. */
    public Path target() {
        return target;
    }

    /**
     * True when the target already has something else mounted (another source, or read-only where
     * read-write was asked): retrying will not help, the caller asked for something incompatible
     * (CSI's ALREADY_EXISTS).
     */
    public boolean isConflict() {
        return conflict;
    }
}
