package dev.nodekit.csi.rbd;

import java.util.Objects;
import java.util.Optional;

import dev.nodekit.csi.spi.ObjectId;

/**
 * What to attach on this node: the volume, where its image lives, the mounter its StorageClass
 * asked for (empty: the node's best) and whether read-only.
 */
record AttachTarget(ObjectId volume, String clusterId, String monitors, String pool, String image,
        Optional<Mounter> mounter, boolean readOnly) {
    AttachTarget {
        Objects.requireNonNull(volume, "volume");
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(monitors, "monitors");
        Objects.requireNonNull(pool, "pool");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(mounter, "mounter");
    }
}
