package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * An image of a pool: its immutable id and its name.
 *
 * @param id   the image id (stays the same across renames and while in the trash)
 * @param name the image name
 */
public record ImageRef(String id, String name) {
    /** Checks the fields. */
    public ImageRef {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
    }
}
