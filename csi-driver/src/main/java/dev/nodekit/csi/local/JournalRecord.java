package dev.nodekit.csi.local;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

import dev.nodekit.common.fs.VersionedFormat;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;

/**
 * One image or snapshot in the journal: {@code pools/<pool>/<kind>s/<uuid>.json}. Its state is the
 * commit protocol (see the package notes): RESERVED before anything is created, READY once the
 * data file is complete, DELETING once a delete has started.
 *
 * @param kind           image or snapshot
 * @param id             the encoded {@link ObjectId} (the file name repeats its UUID)
 * @param name           the request name it was created for (the idempotency key)
 * @param state          where it is in its life
 * @param sizeBytes      the current size (an image grows with resize)
 * @param requestedBytes the size asked for at creation (compared by an idempotent re-create)
 * @param sourceId       for an image, the snapshot or image it was restored or cloned from; for a
 *                       snapshot, its image; null for an empty image
 * @param parameters     the backend parameters of the request
 * @param metadata       the service layer's opaque metadata
 * @param created        creation time, ISO-8601
 * @param copyMethod     how the data file was made: {@code empty}, {@code reflink} or
 *                       {@code sparse-copy}; null while RESERVED
 */
record JournalRecord(RecordKind kind, String id, String name, State state, long sizeBytes, long requestedBytes,
        String sourceId, Map<String, String> parameters, Map<String, String> metadata, String created,
        String copyMethod) {

    /** The commit protocol's states. */
    enum State { RESERVED, READY, DELETING }

    /**
     * The journal record format. v1 (the first cut of this backend, never released) had no
     * {@code requestedBytes} and no {@code copyMethod}: an image's size was also the size asked
     * for, until resize made the two differ.
     */
    static final VersionedFormat FORMAT = VersionedFormat.builder("local backend journal record", 2)
            .migration(1, node -> {
                node.set("requestedBytes", node.get("sizeBytes"));
                node.putNull("copyMethod");
                return node;
            })
            .build();

    JournalRecord {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(id, "id");
        ObjectId parsed = parse(id, kind.idKind);
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("record " + id + ": name must not be empty");
        }
        Objects.requireNonNull(state, "state");
        if (sizeBytes <= 0 || requestedBytes <= 0) {
            throw new IllegalArgumentException("record " + id + ": sizes must be positive");
        }
        if (kind == RecordKind.SNAPSHOT && sourceId == null) {
            throw new IllegalArgumentException("snapshot record " + id + " has no source");
        }
        if (sourceId != null) {
            ObjectId source = parseAny(sourceId);
            if (kind == RecordKind.SNAPSHOT && source.kind() != ObjectId.Kind.VOLUME) {
                throw new IllegalArgumentException("snapshot record " + id + ": source must be an image");
            }
        }
        parameters = Map.copyOf(parameters == null ? Map.of() : parameters);
        metadata = Map.copyOf(metadata == null ? Map.of() : metadata);
        Instant.parse(Objects.requireNonNull(created, "created"));
        if (!Layout.validPool(parsed.pool())) {
            throw new IllegalArgumentException("record " + id + ": invalid pool");
        }
    }

    ObjectId objectId() {
        return parse(id, kind.idKind);
    }

    UUID uuid() {
        return objectId().uuid();
    }

    String pool() {
        return objectId().pool();
    }

    Instant createdAt() {
        return Instant.parse(created);
    }

    /** The content source of an image (empty for an empty image). */
    Optional<ContentSource> contentSource() {
        if (sourceId == null || kind != RecordKind.IMAGE) {
            return Optional.empty();
        }
        ObjectId source = parseAny(sourceId);
        return Optional.of(source.kind() == ObjectId.Kind.SNAPSHOT ? new ContentSource.FromSnapshot(source)
                : new ContentSource.FromImage(source));
    }

    JournalRecord withState(State newState) {
        return new JournalRecord(kind, id, name, newState, sizeBytes, requestedBytes, sourceId, parameters, metadata,
                created, copyMethod);
    }

    JournalRecord ready(long finalSize, String method) {
        return new JournalRecord(kind, id, name, State.READY, finalSize, requestedBytes, sourceId, parameters,
                metadata, created, method);
    }

    JournalRecord withSize(long newSize) {
        return new JournalRecord(kind, id, name, state, newSize, requestedBytes, sourceId, parameters, metadata,
                created, copyMethod);
    }

    static String sourceIdOf(Optional<ContentSource> source) {
        return source.map(s -> s instanceof ContentSource.FromSnapshot fs ? fs.snapshot().encode()
                : ((ContentSource.FromImage) s).image().encode()).orElse(null);
    }

    private static ObjectId parse(String text, ObjectId.Kind kind) {
        try {
            return ObjectId.parse(text, kind);
        } catch (InvalidIdException e) {
            throw new IllegalArgumentException("journal record: " + e.getMessage(), e);
        }
    }

    private static ObjectId parseAny(String text) {
        return parse(text, text.startsWith("s") ? ObjectId.Kind.SNAPSHOT : ObjectId.Kind.VOLUME);
    }
}
