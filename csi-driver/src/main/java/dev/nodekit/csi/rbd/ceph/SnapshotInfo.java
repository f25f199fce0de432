package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;
import java.util.Optional;

/**
 * A snapshot of an image.
 *
 * @param id           the snapshot id (stable; what {@link RbdImages#removeSnapshotById} takes)
 * @param name         the snapshot name (for {@link SnapshotNamespace#TRASH} snapshots an internal name)
 * @param sizeBytes    the image size when the snapshot was taken
 * @param namespace    the snapshot's namespace
 * @param originalName for a trashed snapshot, the name it had before removal
 */
public record SnapshotInfo(long id, String name, long sizeBytes, SnapshotNamespace namespace,
        Optional<String> originalName) {
    /** Checks the fields. */
    public SnapshotInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(originalName, "originalName");
    }
}
