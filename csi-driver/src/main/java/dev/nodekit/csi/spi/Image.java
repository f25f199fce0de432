package dev.nodekit.csi.spi;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An image (a CSI volume's storage): its id, the request name it was created for, its size, where
 * its data came from, the parameters and metadata it was created with, and when.
 */
public record Image(ObjectId id, String name, long sizeBytes, Optional<ContentSource> source,
        Map<String, String> parameters, Map<String, String> metadata, Instant created) {
    public Image {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        parameters = Map.copyOf(parameters);
        metadata = Map.copyOf(metadata);
        Objects.requireNonNull(created, "created");
    }
}
