package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * What {@link RbdImages#stat} reports about an image.
 *
 * @param name        the image name
 * @param id          the image id
 * @param sizeBytes   the provisioned size
 * @param objectBytes the object size ({@code 2^order})
 * @param objectCount objects the size spans ({@code ceil(size / objectBytes)})
 * @param order       the object size exponent
 * @param features    the enabled features
 * @param parent      the clone parent, empty for a non-clone or a flattened clone
 */
public record ImageInfo(String name, String id, long sizeBytes, long objectBytes, long objectCount, int order,
        Set<RbdFeature> features, Optional<ParentRef> parent) {
    /** Checks and copies the fields. */
    public ImageInfo {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(id, "id");
        features = Set.copyOf(features);
        Objects.requireNonNull(parent, "parent");
    }
}
