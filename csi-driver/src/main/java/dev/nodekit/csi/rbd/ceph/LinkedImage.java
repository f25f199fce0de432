package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * An image referred to across a clone link: a clone's parent or a snapshot's child.
 *
 * @param poolId        the pool id
 * @param poolName      the pool name
 * @param poolNamespace the RBD namespace in the pool ("" for none)
 * @param imageId       the image id
 * @param imageName     the image name
 * @param trashed       true when the image is in the RBD trash
 */
public record LinkedImage(long poolId, String poolName, String poolNamespace, String imageId, String imageName,
        boolean trashed) {
    /** Checks the fields. */
    public LinkedImage {
        Objects.requireNonNull(poolName, "poolName");
        Objects.requireNonNull(poolNamespace, "poolNamespace");
        Objects.requireNonNull(imageId, "imageId");
        Objects.requireNonNull(imageName, "imageName");
    }
}
