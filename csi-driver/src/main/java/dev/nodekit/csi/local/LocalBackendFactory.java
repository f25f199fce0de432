package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Objects;

import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.ProcessCommandRunner;

/**
 * Opens {@link LocalBackend}s. Opening takes ownership of the data dir (one process at a time),
 * then recovers it: unfinished creates are undone, half-done deletes finished, files no record
 * explains quarantined, and recorded attachments re-adopted (or re-attached when the kernel lost
 * them). The backend is ready to serve when this returns.
 */
public final class LocalBackendFactory {
    /** Where the kernel shows loop devices. */
    static final Path SYS_BLOCK = Path.of("/sys/block");

    private LocalBackendFactory() {
    }

    /** Opens the backend with the real {@code losetup} and the system clock. */
    public static LocalBackend open(LocalBackendConfig config) throws IOException {
        return open(config, new ProcessCommandRunner(), Clock.systemUTC());
    }

    /**
     * Opens the backend with the given command runner (for {@code losetup}) and clock.
     *
     * @throws IOException when the data dir cannot be created or read, is owned by another live
     *         process, belongs to another node id, or holds a journal written by a newer nodekit
     *         ({@link dev.nodekit.common.fs.FormatVersionException}, "upgrade nodekit")
     */
    public static LocalBackend open(LocalBackendConfig config, CommandRunner runner, Clock clock) throws IOException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(runner, "runner");
        Objects.requireNonNull(clock, "clock");
        return LocalBackend.open(config, runner, clock, SYS_BLOCK);
    }
}
