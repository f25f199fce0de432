package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * The parent of a clone: an image and one of its snapshots.
 *
 * @param image    the parent image
 * @param snapshot the parent snapshot
 */
public record ParentRef(LinkedImage image, Snap snapshot) {
    /**
     * The parent snapshot.
     *
     * @param id        snapshot id
     * @param namespace its namespace ({@link SnapshotNamespace#TRASH} once the user removed it)
     * @param name      its name
     */
    public record Snap(long id, SnapshotNamespace namespace, String name) {
        /** Checks the fields. */
        public Snap {
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(name, "name");
        }
    }

    /** Checks the fields. */
    public ParentRef {
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(snapshot, "snapshot");
    }
}
