package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;

import dev.nodekit.common.fs.AtomicFiles;
import dev.nodekit.common.fs.VersionedFormat;

/**
 * How a journal step is made durable. With {@code sync} (the default) every write is
 * {@link AtomicFiles} (fsync of the file, rename, fsync of the directory) and every removal is
 * followed by an fsync of its directory: the steps survive a power loss in their order. Without it
 * the same temp-file-and-rename sequence runs without the fsyncs: the steps still happen in order
 * and survive a killed process (the page cache outlives it), but a power loss or kernel crash may
 * lose the latest ones.
 */
final class Durability {
    private final boolean sync;

    Durability(boolean sync) {
        this.sync = sync;
    }

    boolean sync() {
        return sync;
    }

    /** Atomically replaces {@code target} with {@code value} in {@code format}, mode 0600. */
    void write(Path target, VersionedFormat format, Object value) throws IOException {
        if (sync) {
            format.write(target, value);
            return;
        }
        byte[] bytes = format.toBytes(value);
        // The same temp name pattern as AtomicFiles, so recovery removes a leftover either way.
        Path tmp = Files.createTempFile(target.getParent(), "." + target.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(AtomicFiles.OWNER_ONLY));
        boolean moved = false;
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Removes {@code file} (absent is fine) and, when syncing, makes the removal durable. */
    void remove(Path file) throws IOException {
        if (Files.deleteIfExists(file) && sync) {
            AtomicFiles.fsyncDirectory(file.getParent());
        }
    }

    /** Makes the entries of {@code dir} durable, when syncing. */
    void syncDirectory(Path dir) throws IOException {
        if (sync) {
            AtomicFiles.fsyncDirectory(dir);
        }
    }
}
