package dev.nodekit.csi.rbd;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The records the journal's UUID objects hold, as omap keys in ceph-csi's style
 * ({@code csi.volname}, {@code csi.imagename}, ...) plus what nodekit needs to answer without
 * opening the image: size, the size first asked for, content source, parameters, the service
 * layer's metadata, creation time and a state ({@code reserved} until the image is complete, then
 * {@code ready}: the commit point).
 *
 * <p>Versioned by the key {@code csi.version}: records of a newer version are refused (the reader
 * is older than the writer: "upgrade nodekit"); older ones are migrated when read and written back
 * in the current version by the next update. Version 1 (the first cut of this journal) had no
 * {@code csi.requestedsize}: the size asked for at creation was {@code csi.size} until a resize.
 */
final class JournalEntries {
    static final int CURRENT_VERSION = 2;
    static final String VERSION = "csi.version";
    static final String VOLNAME = "csi.volname";
    static final String SNAPNAME = "csi.snapname";
    static final String IMAGENAME = "csi.imagename";
    static final String POOL = "csi.pool";
    static final String POOL_ID = "csi.poolid";
    static final String SIZE = "csi.size";
    static final String REQUESTED_SIZE = "csi.requestedsize";
    static final String SOURCE = "csi.source";
    static final String PARAMETERS = "csi.parameters";
    static final String METADATA = "csi.metadata";
    static final String CREATED = "csi.created";
    static final String STATE = "csi.state";
    static final String RESERVED = "reserved";
    static final String READY = "ready";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<TreeMap<String, String>> MAP = new TypeReference<>() { };

    private JournalEntries() {
    }

    /** A journal record that cannot be read: unknown version, missing or malformed field. */
    static final class BadRecordException extends Exception {
        private static final long serialVersionUID = 1L;

        BadRecordException(String message) {
            super(message);
        }
    }

    /**
     * A volume's record.
     *
     * @param uuid           its UUID (the id's and the object's)
     * @param name           the request name
     * @param imageName      the RBD image, {@code csi-vol-<uuid>}
     * @param pool           the image pool's name when it was created (informational)
     * @param poolId         the image pool's id (what the volume id carries; with a separate
     *                       journal pool the listing needs it)
     * @param sizeBytes      current size (raised by resize after the image grew)
     * @param requestedBytes the size the create asked for (what idempotent re-creates compare)
     * @param source         the content source id (snapshot or volume), if any
     * @param parameters     the request's backend parameters
     * @param metadata       the service layer's opaque metadata
     * @param created        creation time
     * @param ready          false while reserved (image not complete), true once committed
     */
    record Volume(UUID uuid, String name, String imageName, String pool, long poolId, long sizeBytes, long requestedBytes,
            Optional<String> source, Map<String, String> parameters, Map<String, String> metadata, Instant created,
            boolean ready) {
        Volume {
            Objects.requireNonNull(uuid, "uuid");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(imageName, "imageName");
            Objects.requireNonNull(pool, "pool");
            Objects.requireNonNull(source, "source");
            parameters = Map.copyOf(parameters);
            metadata = Map.copyOf(metadata);
            Objects.requireNonNull(created, "created");
        }

        Volume withSize(long size) {
            return new Volume(uuid, name, imageName, pool, poolId, size, requestedBytes, source, parameters, metadata,
                    created, ready);
        }

        Volume asReady() {
            return new Volume(uuid, name, imageName, pool, poolId, sizeBytes, requestedBytes, source, parameters,
                    metadata, created, true);
        }

        Map<String, String> fields() {
            Map<String, String> f = new LinkedHashMap<>();
            f.put(VERSION, Integer.toString(CURRENT_VERSION));
            f.put(VOLNAME, name);
            f.put(IMAGENAME, imageName);
            f.put(POOL, pool);
            f.put(POOL_ID, Long.toString(poolId));
            f.put(SIZE, Long.toString(sizeBytes));
            f.put(REQUESTED_SIZE, Long.toString(requestedBytes));
            source.ifPresent(s -> f.put(SOURCE, s));
            f.put(PARAMETERS, json(parameters));
            f.put(METADATA, json(metadata));
            f.put(CREATED, created.toString());
            f.put(STATE, ready ? READY : RESERVED);
            return f;
        }

        static Volume decode(UUID uuid, Map<String, String> raw) throws BadRecordException {
            Map<String, String> f = upgrade(uuid, raw);
            return new Volume(uuid, required(f, VOLNAME, uuid), required(f, IMAGENAME, uuid), required(f, POOL, uuid),
                    readPoolId(f, uuid), number(f, SIZE, uuid), number(f, REQUESTED_SIZE, uuid), Optional.ofNullable(f.get(SOURCE)),
                    map(f, PARAMETERS, uuid), map(f, METADATA, uuid), instant(f, CREATED, uuid), state(f, uuid));
        }
    }

    /**
     * A snapshot's record.
     *
     * @param uuid       its UUID
     * @param name       the request name
     * @param imageName  the snapshot image, {@code csi-snap-<uuid>} (a clone of the source whose own
     *                   snapshot of the same name is the point-in-time copy)
     * @param source     the source volume id
     * @param poolId     the pool of the snapshot image (the source's pool; the snapshot id carries it)
     * @param sizeBytes  the source's size when cut
     * @param parameters the request's parameters
     * @param created    creation time
     * @param ready      false while reserved, true once committed
     */
    record Snapshot(UUID uuid, String name, String imageName, String source, long poolId, long sizeBytes,
            Map<String, String> parameters, Instant created, boolean ready) {
        Snapshot {
            Objects.requireNonNull(uuid, "uuid");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(imageName, "imageName");
            Objects.requireNonNull(source, "source");
            parameters = Map.copyOf(parameters);
            Objects.requireNonNull(created, "created");
        }

        Snapshot asReady() {
            return new Snapshot(uuid, name, imageName, source, poolId, sizeBytes, parameters, created, true);
        }

        Map<String, String> fields() {
            Map<String, String> f = new LinkedHashMap<>();
            f.put(VERSION, Integer.toString(CURRENT_VERSION));
            f.put(SNAPNAME, name);
            f.put(IMAGENAME, imageName);
            f.put(SOURCE, source);
            f.put(POOL_ID, Long.toString(poolId));
            f.put(SIZE, Long.toString(sizeBytes));
            f.put(REQUESTED_SIZE, Long.toString(sizeBytes));
            f.put(PARAMETERS, json(parameters));
            f.put(CREATED, created.toString());
            f.put(STATE, ready ? READY : RESERVED);
            return f;
        }

        static Snapshot decode(UUID uuid, Map<String, String> raw) throws BadRecordException {
            Map<String, String> f = upgrade(uuid, raw);
            return new Snapshot(uuid, required(f, SNAPNAME, uuid), required(f, IMAGENAME, uuid),
                    required(f, SOURCE, uuid), readPoolId(f, uuid), number(f, SIZE, uuid), map(f, PARAMETERS, uuid),
                    instant(f, CREATED, uuid), state(f, uuid));
        }
    }

    /** The fields in the current version: newer refused, older migrated step by step. */
    static Map<String, String> upgrade(UUID uuid, Map<String, String> raw) throws BadRecordException {
        String v = raw.get(VERSION);
        if (v == null) {
            throw new BadRecordException("journal record " + uuid + " has no " + VERSION
                    + " key: not written by nodekit (another CSI driver sharing the pool and instanceID?)");
        }
        int version;
        try {
            version = Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new BadRecordException("journal record " + uuid + " has an unreadable " + VERSION + " '" + v + "'");
        }
        if (version > CURRENT_VERSION) {
            throw new BadRecordException("journal record " + uuid + " has format version " + version
                    + "; this nodekit reads versions 1 to " + CURRENT_VERSION + " (upgrade nodekit)");
        }
        if (version < 1) {
            throw new BadRecordException("journal record " + uuid + " has unknown format version " + version);
        }
        Map<String, String> f = new LinkedHashMap<>(raw);
        if (version == 1) {
            // v1 -> v2: the size asked for at creation is recorded separately from the current size.
            if (f.containsKey(SIZE)) {
                f.put(REQUESTED_SIZE, f.get(SIZE));
            }
            f.put(VERSION, "2");
        }
        return f;
    }

    private static String required(Map<String, String> f, String key, UUID uuid) throws BadRecordException {
        String v = f.get(key);
        if (v == null || v.isEmpty()) {
            throw new BadRecordException("journal record " + uuid + " lacks " + key);
        }
        return v;
    }

    private static long number(Map<String, String> f, String key, UUID uuid) throws BadRecordException {
        try {
            long n = Long.parseLong(required(f, key, uuid));
            if (n <= 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new BadRecordException("journal record " + uuid + ": " + key + " is not a positive number");
        }
    }

    private static long readPoolId(Map<String, String> f, UUID uuid) throws BadRecordException {
        try {
            long n = Long.parseLong(required(f, POOL_ID, uuid));
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new BadRecordException("journal record " + uuid + ": " + POOL_ID + " is not a pool id");
        }
    }

    private static Instant instant(Map<String, String> f, String key, UUID uuid) throws BadRecordException {
        try {
            return Instant.parse(required(f, key, uuid));
        } catch (DateTimeParseException e) {
            throw new BadRecordException("journal record " + uuid + ": " + key + " is not an ISO-8601 instant");
        }
    }

    private static boolean state(Map<String, String> f, UUID uuid) throws BadRecordException {
        String s = required(f, STATE, uuid);
        return switch (s) {
            case READY -> true;
            case RESERVED -> false;
            default -> throw new BadRecordException("journal record " + uuid + ": unknown state '" + s + "'");
        };
    }

    private static Map<String, String> map(Map<String, String> f, String key, UUID uuid) throws BadRecordException {
        String text = f.get(key);
        if (text == null) {
            return Map.of();
        }
        try {
            return JSON.readValue(text, MAP);
        } catch (JsonProcessingException e) {
            throw new BadRecordException("journal record " + uuid + ": " + key + " is not a JSON object of strings");
        }
    }

    private static String json(Map<String, String> m) {
        try {
            return JSON.writeValueAsString(new TreeMap<>(m));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings always serializes", e);
        }
    }
}
