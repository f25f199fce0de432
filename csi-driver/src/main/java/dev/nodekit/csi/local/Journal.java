package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.local.JournalRecord.State;
import dev.nodekit.csi.spi.StorageException;

/**
 * The metadata journal: one record file per image or snapshot, each step of the commit protocol a
 * durable write followed by its failpoint, plus the in-memory index (by UUID in a stable order,
 * and by name) rebuilt from the files at startup. Callers hold the name or id lock of the object
 * they change; the maps are concurrent so readers never wait.
 */
final class Journal {
    private final Layout layout;
    private final Durability durability;
    private final long capacityLimit;
    private final Map<RecordKind, ConcurrentSkipListMap<String, JournalRecord>> byId = Map.of(
            RecordKind.IMAGE, new ConcurrentSkipListMap<>(), RecordKind.SNAPSHOT, new ConcurrentSkipListMap<>());
    private final Map<RecordKind, ConcurrentHashMap<String, String>> byName = Map.of(
            RecordKind.IMAGE, new ConcurrentHashMap<>(), RecordKind.SNAPSHOT, new ConcurrentHashMap<>());
    private final AtomicLong provisioned = new AtomicLong();

    /** @param capacityLimit the most bytes all images and snapshots together may provision; 0 = no limit */
    Journal(Layout layout, Durability durability, long capacityLimit) {
        this.layout = layout;
        this.durability = durability;
        this.capacityLimit = capacityLimit;
    }

    Layout layout() {
        return layout;
    }

    Durability durability() {
        return durability;
    }

    Optional<JournalRecord> get(RecordKind kind, UUID uuid) {
        return Optional.ofNullable(byId.get(kind).get(uuid.toString()));
    }

    Optional<JournalRecord> byName(RecordKind kind, String name) {
        String uuid = byName.get(kind).get(name);
        return uuid == null ? Optional.empty() : Optional.ofNullable(byId.get(kind).get(uuid));
    }

    /** All records of {@code kind} in UUID order, whatever their state. */
    List<JournalRecord> all(RecordKind kind) {
        return List.copyOf(byId.get(kind).values());
    }

    /** Records of {@code kind} whose UUID sorts after {@code afterUuid} ("" = from the start), in order. */
    Iterable<JournalRecord> after(RecordKind kind, String afterUuid) {
        ConcurrentSkipListMap<String, JournalRecord> m = byId.get(kind);
        return afterUuid.isEmpty() ? m.values() : m.tailMap(afterUuid, false).values();
    }

    /** Bytes provisioned by all records (any state). */
    long provisionedBytes() {
        return provisioned.get();
    }

    Path dataFile(JournalRecord r) {
        return layout.data(r.kind(), r.pool(), r.uuid());
    }

    Path recordFile(JournalRecord r) {
        return layout.record(r.kind(), r.pool(), r.uuid());
    }

    /** Takes a record found on disk into the index (startup), without writing. */
    void adopt(JournalRecord r) {
        index(r);
        provisioned.addAndGet(r.sizeBytes());
    }

    /**
     * Step 1 of a create: the RESERVED record (name, id, spec) is durable before any data file
     * exists. Claims the capacity first.
     */
    void reserve(JournalRecord r) throws IOException, StorageException.CapacityExceeded {
        if (r.state() != State.RESERVED) {
            throw new IllegalArgumentException("reserve needs a RESERVED record: " + r.id());
        }
        claim(r.sizeBytes(), r);
        boolean written = false;
        try {
            write(r);
            written = true;
        } finally {
            if (!written) {
                provisioned.addAndGet(-r.sizeBytes());
            }
        }
        index(r);
        Failpoints.hit(r.kind().reserved);
    }

    /** The commit point of a create: the record says READY. The data file is complete and synced. */
    void commit(JournalRecord r) throws IOException {
        if (r.state() != State.READY) {
            throw new IllegalArgumentException("commit needs a READY record: " + r.id());
        }
        write(r);
        JournalRecord reserved = index(r);
        if (reserved != null) {
            provisioned.addAndGet(r.sizeBytes() - reserved.sizeBytes()); // a copy may end bigger than asked
        }
        Failpoints.hit(r.kind().committed);
    }

    /**
     * Undoes an unfinished create (a failed one, or a RESERVED record found at startup): the data
     * file goes first, then the record, so a crash in between leaves a RESERVED record that the
     * next startup undoes again.
     */
    void undo(JournalRecord r) throws IOException {
        removeFile(dataFile(r));
        Failpoints.hit(Point.LOCAL_UNDO_FILE_REMOVED);
        removeFile(recordFile(r));
        forget(r);
        Failpoints.hit(Point.LOCAL_UNDO_DONE);
    }

    /** Step 1 of a delete: the DELETING record (the intent) is durable before anything is removed. */
    JournalRecord markDeleting(JournalRecord r) throws IOException {
        JournalRecord deleting = r.withState(State.DELETING);
        write(deleting);
        index(deleting);
        Failpoints.hit(r.kind().deleteIntent);
        return deleting;
    }

    /** The rest of a delete (also how a repeated delete or startup finishes a half-done one). */
    void finishDelete(JournalRecord r) throws IOException {
        if (r.state() != State.DELETING) {
            throw new IllegalArgumentException("finishDelete needs a DELETING record: " + r.id());
        }
        removeFile(dataFile(r));
        Failpoints.hit(r.kind().deleteFileRemoved);
        removeFile(recordFile(r));
        forget(r);
        Failpoints.hit(r.kind().deleteDone);
    }

    /** Records a READY image's new size after its file has grown. */
    JournalRecord resized(JournalRecord r, long newSize) throws IOException, StorageException.CapacityExceeded {
        long delta = newSize - r.sizeBytes();
        claim(delta, r);
        JournalRecord grown = r.withSize(newSize);
        boolean written = false;
        try {
            write(grown);
            written = true;
        } finally {
            if (!written) {
                provisioned.addAndGet(-delta);
            }
        }
        byId.get(r.kind()).put(r.uuid().toString(), grown);
        Failpoints.hit(Point.LOCAL_RESIZE_COMMITTED);
        return grown;
    }

    /** Rewrites a READY record whose file was found bigger than it says (startup: a resize cut short). */
    JournalRecord repairSize(JournalRecord r, long fileSize) throws IOException {
        JournalRecord fixed = r.withSize(fileSize);
        write(fixed);
        provisioned.addAndGet(fileSize - r.sizeBytes());
        byId.get(r.kind()).put(r.uuid().toString(), fixed);
        return fixed;
    }

    private void claim(long bytes, JournalRecord r) throws StorageException.CapacityExceeded {
        if (capacityLimit <= 0 || bytes <= 0) {
            provisioned.addAndGet(bytes);
            return;
        }
        while (true) {
            long now = provisioned.get();
            if (now + bytes > capacityLimit) {
                throw new StorageException.CapacityExceeded(r.kind().noun() + " '" + r.name() + "' needs " + bytes
                        + " bytes but only " + Math.max(0, capacityLimit - now) + " of the configured capacity of "
                        + capacityLimit + " bytes are left");
            }
            if (provisioned.compareAndSet(now, now + bytes)) {
                return;
            }
        }
    }

    private void write(JournalRecord r) throws IOException {
        durability.write(recordFile(r), JournalRecord.FORMAT, r);
    }

    /** Puts {@code r} into both indexes; returns the record it replaced. Capacity is accounted by the callers. */
    private JournalRecord index(JournalRecord r) {
        JournalRecord old = byId.get(r.kind()).put(r.uuid().toString(), r);
        byName.get(r.kind()).put(r.name(), r.uuid().toString());
        return old;
    }

    private void forget(JournalRecord r) {
        JournalRecord old = byId.get(r.kind()).remove(r.uuid().toString());
        if (old != null) {
            provisioned.addAndGet(-old.sizeBytes());
        }
        byName.get(r.kind()).remove(r.name(), r.uuid().toString());
    }

    /** Removes a file and makes the removal durable (its directory is synced). */
    private void removeFile(Path file) throws IOException {
        durability.remove(file);
    }
}
