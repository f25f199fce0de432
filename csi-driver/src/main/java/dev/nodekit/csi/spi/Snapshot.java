package dev.nodekit.csi.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * An immutable point-in-time copy of an image. {@code readyToUse} is false while a backend still
 * finishes it after it was cut (the CSI CreateSnapshot contract).
 */
public record Snapshot(ObjectId id, String name, ObjectId source, long sizeBytes, Instant created,
        boolean readyToUse) {
    public Snapshot {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(created, "created");
    }
}
