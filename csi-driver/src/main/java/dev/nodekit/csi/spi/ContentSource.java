package dev.nodekit.csi.spi;

import java.util.Objects;

/** Where a new image's data comes from: a snapshot (restore) or another image (clone). */
public sealed interface ContentSource {
    /** Restore from a snapshot. */
    record FromSnapshot(ObjectId snapshot) implements ContentSource {
        public FromSnapshot {
            Objects.requireNonNull(snapshot, "snapshot");
            if (snapshot.kind() != ObjectId.Kind.SNAPSHOT) {
                throw new IllegalArgumentException("not a snapshot id: " + snapshot);
            }
        }
    }

    /** Clone an image. */
    record FromImage(ObjectId image) implements ContentSource {
        public FromImage {
            Objects.requireNonNull(image, "image");
            if (image.kind() != ObjectId.Kind.VOLUME) {
                throw new IllegalArgumentException("not a volume id: " + image);
            }
        }
    }
}
