package dev.nodekit.csi.rbd.ceph;

import java.time.Instant;
import java.util.Objects;

/**
 * An image in the pool's RBD trash.
 *
 * @param id            the image id (what {@link RbdImages#removeFromTrash} takes)
 * @param name          the name the image had
 * @param source        why it is there
 * @param deletedAt     when it was moved to the trash
 * @param deferredUntil before this instant a non-forced removal fails
 */
public record TrashEntry(String id, String name, Source source, Instant deletedAt, Instant deferredUntil) {
    /** Why an image is in the trash (rbd_trash_image_source_t). */
    public enum Source {
        /** Moved by a user ({@code rbd trash mv}, {@link RbdImages#moveToTrash}). */
        USER,
        /** Moved by rbd-mirror. */
        MIRRORING,
        /** Moved by a migration. */
        MIGRATION,
        /** Being removed. */
        REMOVING,
        /** A removed parent that still has clone children. */
        USER_PARENT,
        /** A source this version does not know. */
        UNKNOWN;

        static Source of(int value) {
            return switch (value) {
                case 0 -> USER;
                case 1 -> MIRRORING;
                case 2 -> MIGRATION;
                case 3 -> REMOVING;
                case 4 -> USER_PARENT;
                default -> UNKNOWN;
            };
        }
    }

    /** Checks the fields. */
    public TrashEntry {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(deletedAt, "deletedAt");
        Objects.requireNonNull(deferredUntil, "deferredUntil");
    }
}
