package dev.nodekit.common.fs;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Replaces a file's content so that a reader, or the file after a crash or power loss, sees either
 * the old content or the new one, never a mix or an empty file.
 *
 * <p>Steps: write a temporary file in the same directory (same filesystem, so the rename is atomic),
 * fsync it, rename it over the target, fsync the directory. See the package notes for why each is
 * needed. The target's new mode is exactly the permissions asked for (the umask does not apply);
 * the owner is the calling user. A symlink at the target is replaced, not followed.
 */
public final class AtomicFiles {
    /** The default mode: nodekit's state belongs to root and nobody else. */
    public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    /** World-readable, for files other programs read (configs, CNI results). */
    public static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");

    private AtomicFiles() {
    }

    /** Atomically replaces {@code target} with {@code data}, mode {@code 0600}. */
    public static void write(Path target, byte[] data) throws IOException {
        write(target, data, OWNER_ONLY);
    }

    /** Atomically replaces {@code target} with {@code text} as UTF-8, mode {@code 0600}. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, text.getBytes(StandardCharsets.UTF_8), OWNER_ONLY);
    }

    /** Atomically replaces {@code target} with {@code data}, with exactly {@code permissions} as its mode. */
    public static void write(Path target, byte[] data, Set<PosixFilePermission> permissions) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || abs.getFileName() == null) {
            throw new IOException(target + ": not a file path");
        }
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(data);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            // Set after writing, not at creation: creation modes pass through the umask.
            Files.setPosixFilePermissions(tmp, permissions);
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
            fsyncDirectory(dir);
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Flushes a directory's entries (creations, renames, deletions in it) to disk. Call it after
     * creating or deleting a file whose existence must survive a crash.
     */
    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
