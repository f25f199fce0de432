package dev.nodekit.csi.spi;

import java.util.Map;
import java.util.Objects;

/** What to snapshot: a named (idempotency key) point-in-time copy of {@code source}. */
public record SnapshotSpec(String name, ObjectId source, Map<String, String> parameters) {
    public SnapshotSpec {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name must not be empty");
        }
        Objects.requireNonNull(source, "source");
        if (source.kind() != ObjectId.Kind.VOLUME) {
            throw new IllegalArgumentException("snapshot source must be a volume id: " + source);
        }
        parameters = Map.copyOf(parameters);
    }
}
