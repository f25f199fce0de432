package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Options for creating or cloning an image ({@code rbd_image_options_t}). Empty options mean
 * librbd's defaults: the client's {@code rbd_default_features} (Pacific: layering, exclusive-lock,
 * object-map, fast-diff, deep-flatten) for a new image and the parent's features for a clone,
 * 4 MiB objects, data in the image's pool. Clones are always made in clone format 2, which needs
 * no snapshot protection.
 *
 * @param features image features; empty for librbd's default
 * @param order    object size as a power of two (12 = 4 KiB ... 25 = 32 MiB); empty for 22 (4 MiB)
 * @param dataPool a pool for the data objects (erasure-coded pools); empty for the image's pool
 */
public record ImageOptions(Optional<Set<RbdFeature>> features, OptionalInt order, Optional<String> dataPool) {
    private static final ImageOptions DEFAULTS = new ImageOptions(Optional.empty(), OptionalInt.empty(), Optional.empty());

    /** Validates and copies the fields. */
    public ImageOptions {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(dataPool, "dataPool");
        features = features.map(Set::copyOf);
        if (order.isPresent() && (order.getAsInt() < 12 || order.getAsInt() > 25)) {
            throw new IllegalArgumentException("object order " + order.getAsInt() + " must be between 12 and 25");
        }
        dataPool.ifPresent(RadosCluster::requirePoolName);
    }

    /** librbd's defaults. */
    public static ImageOptions defaults() {
        return DEFAULTS;
    }

    /** A copy with exactly {@code features}. */
    public ImageOptions withFeatures(Set<RbdFeature> features) {
        return new ImageOptions(Optional.of(features), order, dataPool);
    }

    /** A copy with objects of {@code 2^order} bytes. */
    public ImageOptions withOrder(int order) {
        return new ImageOptions(features, OptionalInt.of(order), dataPool);
    }

    /** A copy that stores data objects in {@code pool}. */
    public ImageOptions withDataPool(String pool) {
        return new ImageOptions(features, order, Optional.of(pool));
    }
}
