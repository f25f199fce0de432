package dev.nodekit.csi.spi;

import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What to create: a named image (the CO's request name, the idempotency key) of {@code sizeBytes}
 * in {@code pool}, optionally from a content source, with backend parameters (validated by the
 * backend; unknown keys rejected by name) and opaque metadata the service layer stores with the
 * image and gets back on every read (access type, fs type...: what idempotency must compare).
 */
public record ImageSpec(String name, Optional<String> pool, long sizeBytes, Optional<ContentSource> source,
        Map<String, String> parameters, Map<String, String> metadata) {
    public ImageSpec {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name must not be empty");
        }
        Objects.requireNonNull(pool, "pool");
        if (sizeBytes <= 0) {
            throw new IllegalArgumentException("sizeBytes must be positive, got " + sizeBytes);
        }
        Objects.requireNonNull(source, "source");
        parameters = Map.copyOf(parameters);
        metadata = Map.copyOf(metadata);
    }
}
