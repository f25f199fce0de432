package dev.nodekit.csi.rbd;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

import dev.nodekit.csi.rbd.ceph.CephAlreadyExistsException;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.OmapPage;
import dev.nodekit.csi.rbd.ceph.RadosPool;
import dev.nodekit.csi.rbd.ceph.WriteOp;

/**
 * The omap journal of one kind (volumes or snapshots) in one journal pool, in ceph-csi's layout:
 * a directory object {@code csi.volumes.<instance>} whose omap maps {@code csi.volume.<name>} to a
 * UUID, and one object {@code csi.volume.<uuid>} per volume whose omap holds its record
 * ({@link JournalEntries}). Snapshots: {@code csi.snaps.<instance>}, {@code csi.snap.<name>},
 * {@code csi.snap.<uuid>}. Besides the name keys the directory holds intent keys
 * {@code csi.intent.<uuid>} = name, written before a reservation and removed in the same atomic
 * write that binds the name: a create killed between reserving its UUID object and binding the name
 * finds its UUID again through the intent instead of leaving an orphan (ceph-csi's known leak).
 * Only raw steps live here; the order of steps is {@link RbdBackend}'s.
 */
final class Journal {
    /** Volumes or snapshots. */
    enum Kind {
        VOLUME("csi.volumes.", "csi.volume."),
        SNAPSHOT("csi.snaps.", "csi.snap.");

        final String directoryPrefix;
        final String prefix;

        Kind(String directoryPrefix, String prefix) {
            this.directoryPrefix = directoryPrefix;
            this.prefix = prefix;
        }
    }

    static final String INTENT_PREFIX = "csi.intent.";

    private final RadosPool pool;
    private final Kind kind;
    private final String directory;

    Journal(RadosPool pool, Kind kind, String instanceId) {
        this.pool = Objects.requireNonNull(pool, "pool");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.directory = kind.directoryPrefix + instanceId;
    }

    RadosPool pool() {
        return pool;
    }

    String directoryObject() {
        return directory;
    }

    String nameKey(String name) {
        return kind.prefix + name;
    }

    String recordObject(UUID uuid) {
        return kind.prefix + uuid;
    }

    /** The UUID the name is bound to, if any. */
    Optional<UUID> lookup(String name) throws CephException {
        try {
            Map<String, String> v = pool.omapGetStrings(directory, List.of(nameKey(name)));
            String u = v.get(nameKey(name));
            return u == null ? Optional.empty() : Optional.of(UUID.fromString(u));
        } catch (CephNotFoundException e) {
            return Optional.empty();
        }
    }

    /** UUIDs of unfinished reservations for {@code name} (normally none). */
    List<UUID> intents(String name) throws CephException {
        List<UUID> out = new ArrayList<>();
        String after = "";
        try {
            while (true) {
                OmapPage page = pool.omapList(directory, after, INTENT_PREFIX, 1000);
                page.strings().forEach((k, v) -> {
                    if (v.equals(name)) {
                        out.add(UUID.fromString(k.substring(INTENT_PREFIX.length())));
                    }
                });
                if (!page.more()) {
                    return out;
                }
                after = page.lastKey();
            }
        } catch (CephNotFoundException e) {
            return out;
        }
    }

    /** Records the intent to reserve {@code uuid} for {@code name} (creates the directory when needed). */
    void writeIntent(UUID uuid, String name) throws CephException {
        pool.write(directory, WriteOp.empty().createIfMissing().omapSetStrings(Map.of(INTENT_PREFIX + uuid, name)));
    }

    /** Removes an intent (done or undone). */
    void removeIntent(UUID uuid) throws CephException {
        try {
            pool.write(directory, WriteOp.empty().omapRemove(List.of(INTENT_PREFIX + uuid)));
        } catch (CephNotFoundException e) {
            // no directory: nothing to remove
        }
    }

    /**
     * Creates the UUID object with {@code fields}, exclusively: {@link CephAlreadyExistsException}
     * when it exists (a retry of the same reservation, or a UUID collision the caller checks).
     */
    void reserve(UUID uuid, Map<String, String> fields) throws CephException {
        pool.write(recordObject(uuid), WriteOp.empty().createExclusive().omapSetStrings(fields));
    }

    /** Binds {@code name} to {@code uuid} and drops the reservation's intent, atomically. */
    void bindName(String name, UUID uuid) throws CephException {
        pool.write(directory, WriteOp.empty().createIfMissing().omapSetStrings(Map.of(nameKey(name), uuid.toString()))
                .omapRemove(List.of(INTENT_PREFIX + uuid)));
    }

    /** Removes the name key when it still points at {@code uuid}. */
    void unbindName(String name, UUID uuid) throws CephException {
        Optional<UUID> bound = lookup(name);
        if (bound.isPresent() && bound.get().equals(uuid)) {
            pool.write(directory, WriteOp.empty().omapRemove(List.of(nameKey(name))));
        }
    }

    /** The record fields of {@code uuid}, empty when its object does not exist. */
    Optional<Map<String, String>> read(UUID uuid) throws CephException {
        try {
            Map<String, String> all = new java.util.LinkedHashMap<>();
            String after = "";
            while (true) {
                OmapPage page = pool.omapList(recordObject(uuid), after, "csi.", 1000);
                all.putAll(page.strings());
                if (!page.more()) {
                    break;
                }
                after = page.lastKey();
            }
            if (all.isEmpty()) {
                // An existing object without keys is not a record (the directory shares no names with it).
                return pool.stat(recordObject(uuid)) != null ? Optional.of(all) : Optional.empty();
            }
            return Optional.of(all);
        } catch (CephNotFoundException e) {
            return Optional.empty();
        }
    }

    /** Sets fields of an existing record (ENOENT when it is gone). */
    void update(UUID uuid, Map<String, String> fields) throws CephException {
        pool.write(recordObject(uuid), WriteOp.empty().assertExists().omapSetStrings(fields));
    }

    /** Removes the record object; fine when it is gone. */
    void removeRecord(UUID uuid) throws CephException {
        try {
            pool.remove(recordObject(uuid));
        } catch (CephNotFoundException e) {
            // already gone
        }
    }

    /** One directory entry: request name and UUID. */
    record Entry(String key, String name, UUID uuid) {
    }

    /** Up to {@code max} name bindings after directory key {@code afterKey}, in key order. */
    List<Entry> list(String afterKey, int max, boolean[] more) throws CephException {
        List<Entry> out = new ArrayList<>();
        try {
            OmapPage page = pool.omapList(directory, afterKey, kind.prefix, Math.max(1, Math.min(max, 1000)));
            for (Map.Entry<String, byte[]> e : page.entries().entrySet()) {
                String name = e.getKey().substring(kind.prefix.length());
                out.add(new Entry(e.getKey(), name, UUID.fromString(new String(e.getValue(), StandardCharsets.UTF_8))));
            }
            more[0] = page.more();
        } catch (CephNotFoundException e) {
            more[0] = false;
        }
        return out;
    }
}
