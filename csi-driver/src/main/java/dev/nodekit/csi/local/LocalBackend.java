package dev.nodekit.csi.local;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.fs.DirectoryLock;
import dev.nodekit.common.fs.LockTimeoutException;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.local.JournalRecord.State;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Capacity;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.Page;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * The embedded local backend: images are sparse files in pool directories under a data dir,
 * snapshots immutable reflink or sparse copies, clones writable copies, a crash-safe journal of
 * one record per object, and loop devices for attach. See the package notes for the on-disk
 * layout, the commit protocol and the crash-safety argument.
 *
 * <p>Open it with {@link LocalBackendFactory}. One process owns a data dir at a time (an OS lock
 * on {@code <dataDir>/lock}, held until {@link #close()}); a second one fails to open it.
 * Thread-safe: calls on different names and ids run in parallel.
 */
@SuppressWarnings("try") // per-name and per-id locks are held by try-with-resources, not used
public final class LocalBackend implements StorageBackend {
    /** The backend kind encoded in ids. */
    public static final String KIND = "local";
    /** The only parameter of an image: the pool to create it in. */
    public static final String POOL_PARAMETER = "pool";

    private static final Logger log = LoggerFactory.getLogger(LocalBackend.class);
    private static final Pattern TOKEN = Pattern.compile(
            "([is])1\\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    private static final Duration DETACH_SETTLE = Duration.ofSeconds(2);

    private final LocalBackendConfig config;
    private final Layout layout;
    private final Journal journal;
    private final KeyedLocks locks;
    private final DataFiles files;
    private final LoopDevices loops;
    private final Clock clock;
    private final DirectoryLock ownership;
    private final Set<String> pools;
    private final Reconciler.Report recovery;
    private volatile boolean closed;

    private LocalBackend(LocalBackendConfig config, Layout layout, Journal journal, DataFiles files,
            LoopDevices loops, Clock clock, DirectoryLock ownership, Set<String> pools, Reconciler.Report recovery) {
        this.config = config;
        this.layout = layout;
        this.journal = journal;
        this.locks = new KeyedLocks(config.lockWait());
        this.files = files;
        this.loops = loops;
        this.clock = clock;
        this.ownership = ownership;
        this.pools = Set.copyOf(pools);
        this.recovery = recovery;
    }

    /**
     * Opens (creating if needed) the data dir, takes ownership of it, recovers the journal and the
     * node state. The wiring point for tests; production code uses {@link LocalBackendFactory}.
     *
     * @param sysBlock {@code /sys/block}, where loop devices are checked
     */
    static LocalBackend open(LocalBackendConfig config, dev.nodekit.common.exec.CommandRunner runner, Clock clock,
            Path sysBlock) throws IOException {
        return open(config, runner, clock, sysBlock, new DataFiles(config.reflink(), config.syncWrites()));
    }

    /** As above, with the data file operations given (tests hook them to prove concurrency). */
    static LocalBackend open(LocalBackendConfig config, dev.nodekit.common.exec.CommandRunner runner, Clock clock,
            Path sysBlock, DataFiles files) throws IOException {
        Files.createDirectories(config.dataDir());
        Path root = config.dataDir().toRealPath();
        DirectoryLock ownership;
        try {
            ownership = DirectoryLock.acquire(root, Duration.ZERO);
        } catch (LockTimeoutException e) {
            throw new IOException("data dir " + root + " is in use by another local backend (" + e.getMessage()
                    + "); one process owns a data dir at a time", e);
        }
        boolean ok = false;
        try {
            Layout layout = new Layout(root);
            checkMarker(layout, config, clock);
            Files.createDirectories(layout.pools());
            Files.createDirectories(layout.attachments());
            Journal journal = new Journal(layout, new Durability(config.syncWrites()), config.capacityLimitBytes());
            long start = System.nanoTime();
            Reconciler.Report report = new Reconciler(journal, files).run(config.pools());
            Set<String> pools = new TreeSet<>(config.pools());
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.pools())) {
                for (Path p : ds) {
                    String name = p.getFileName().toString();
                    if (Layout.validPool(name) && Files.isDirectory(p)) {
                        pools.add(name);
                    }
                }
            }
            LoopDevices loops = new LoopDevices(runner, sysBlock, Duration.ofSeconds(30));
            LocalBackend backend = new LocalBackend(config, layout, journal, files, loops, clock, ownership, pools,
                    report);
            backend.recoverAttachments();
            log.atInfo().addKeyValue("data_dir", root).addKeyValue("node_id", config.nodeId())
                    .addKeyValue("pools", pools).addKeyValue("images", report.loaded())
                    .addKeyValue("undone", report.undone()).addKeyValue("deletes_finished", report.deletesFinished())
                    .addKeyValue("quarantined", report.quarantined().size())
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000)
                    .log("local backend opened");
            ok = true;
            return backend;
        } finally {
            if (!ok) {
                ownership.close();
            }
        }
    }

    private static void checkMarker(Layout layout, LocalBackendConfig config, Clock clock) throws IOException {
        Path marker = layout.marker();
        if (Files.exists(marker)) {
            DataDirMarker m = DataDirMarker.FORMAT.read(marker, DataDirMarker.class);
            if (!m.nodeId().equals(config.nodeId())) {
                throw new IOException("data dir " + layout.root() + " belongs to node '" + m.nodeId()
                        + "', not '" + config.nodeId() + "': every volume id names its node, so the node id of a"
                        + " data dir cannot change");
            }
        } else {
            DataDirMarker.FORMAT.write(marker, new DataDirMarker(config.nodeId(), clock.instant().toString()));
        }
    }

    /** What startup recovery did (for tests and the startup log). */
    Reconciler.Report recovery() {
        return recovery;
    }

    Journal journal() {
        return journal;
    }

    /** The data dir this backend owns (canonical). */
    public Path dataDir() {
        return layout.root();
    }

    /** Its configuration. */
    public LocalBackendConfig config() {
        return config;
    }

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Health health() {
        if (closed) {
            return Health.unhealthy("local backend is closed");
        }
        Path pools = layout.pools();
        if (!Files.isDirectory(pools) || !Files.isWritable(pools)) {
            return Health.unhealthy("data dir " + layout.root() + " is missing or not writable");
        }
        return Health.ok();
    }

    @Override
    public List<String> parameterKeys() {
        return List.of(POOL_PARAMETER);
    }

    @Override
    public Capacity capacity(Map<String, String> parameters, Credentials credentials) throws StorageException {
        ensureOpen();
        String pool = poolFor(Optional.empty(), parameters);
        try {
            FileStore fs = Files.getFileStore(layout.pool(pool));
            long total = fs.getTotalSpace();
            long available = fs.getUsableSpace();
            long limit = config.capacityLimitBytes();
            if (limit > 0) {
                total = Math.min(total, limit);
                available = Math.min(available, Math.max(0, limit - journal.provisionedBytes()));
            }
            long max = config.maxImageBytes();
            return new Capacity(available, total, max, 0);
        } catch (IOException e) {
            throw new StorageException.Unavailable("cannot read the free space of pool '" + pool + "': "
                    + e.getMessage(), e);
        }
    }

    // ---------------------------------------------------------------- images

    @Override
    public Image createImage(ImageSpec spec, Credentials credentials) throws StorageException {
        ensureOpen();
        String pool = poolFor(spec.pool(), spec.parameters());
        checkSize(spec.sizeBytes());
        long start = System.nanoTime();
        try (KeyedLocks.Held l = locks.lock("image-name:" + spec.name(), "image '" + spec.name() + "'")) {
            Optional<JournalRecord> existing = journal.byName(RecordKind.IMAGE, spec.name());
            if (existing.isPresent()) {
                JournalRecord r = existing.get();
                switch (r.state()) {
                    case READY -> {
                        return existingImage(r, spec, pool);
                    }
                    case DELETING -> throw new StorageException.Pending("image '" + spec.name() + "' (" + r.id()
                            + ") is being deleted; retry when the delete has finished");
                    case RESERVED -> undoQuietly(r); // an earlier create whose undo failed: finish the undo
                    default -> throw new IllegalStateException(r.state().toString());
                }
            }
            Optional<SourceData> source = spec.source().isPresent()
                    ? Optional.of(resolveSource(spec.source().get())) : Optional.empty();
            if (source.isPresent() && spec.sizeBytes() < source.get().sizeBytes()) {
                throw new StorageException.OutOfRange("image '" + spec.name() + "' of " + spec.sizeBytes()
                        + " bytes is smaller than its source " + source.get().id() + " of "
                        + source.get().sizeBytes() + " bytes");
            }
            ObjectId id = ObjectId.newVolume(KIND, config.nodeId(), pool);
            JournalRecord reserved = new JournalRecord(RecordKind.IMAGE, id.encode(), spec.name(), State.RESERVED,
                    spec.sizeBytes(), spec.sizeBytes(), JournalRecord.sourceIdOf(spec.source()), spec.parameters(),
                    spec.metadata(), clock.instant().toString(), null);
            try {
                journal.reserve(reserved);
            } catch (IOException e) {
                throw failure("reserving image '" + spec.name() + "'", e);
            }
            boolean committed = false;
            try {
                Path file = journal.dataFile(reserved);
                DataFiles.Method method = source.isPresent()
                        ? files.copy(source.get().file(), file, spec.sizeBytes())
                        : files.createSparse(file, spec.sizeBytes());
                Failpoints.hit(Point.LOCAL_CREATE_FILE_WRITTEN);
                JournalRecord ready = reserved.ready(Math.max(spec.sizeBytes(), Files.size(file)), method.id);
                journal.commit(ready);
                committed = true;
                log.atInfo().addKeyValue("image_id", id).addKeyValue("name", spec.name()).addKeyValue("pool", pool)
                        .addKeyValue("size_bytes", ready.sizeBytes()).addKeyValue("method", method.id)
                        .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("image created");
                return toImage(ready);
            } catch (NoSuchFileException e) {
                throw new StorageException.NotFound("source of image '" + spec.name() + "' disappeared while it was"
                        + " copied: " + JournalRecord.sourceIdOf(spec.source()));
            } catch (IOException e) {
                throw failure("creating image '" + spec.name() + "'", e);
            } finally {
                if (!committed) {
                    undoQuietly(reserved);
                }
            }
        }
    }

    private Image existingImage(JournalRecord r, ImageSpec spec, String pool) throws StorageException {
        List<String> diffs = new ArrayList<>();
        if (!r.pool().equals(pool)) {
            diffs.add("pool " + r.pool() + " != " + pool);
        }
        if (r.requestedBytes() != spec.sizeBytes()) {
            diffs.add("size " + r.requestedBytes() + " != " + spec.sizeBytes());
        }
        if (!Objects.equals(r.sourceId(), JournalRecord.sourceIdOf(spec.source()))) {
            diffs.add("content source " + r.sourceId() + " != " + JournalRecord.sourceIdOf(spec.source()));
        }
        if (!r.parameters().equals(spec.parameters())) {
            diffs.add("parameters differ");
        }
        if (!r.metadata().equals(spec.metadata())) {
            diffs.add("metadata differs");
        }
        if (!diffs.isEmpty()) {
            throw new StorageException.Conflict("image '" + spec.name() + "' exists as " + r.id()
                    + " with other properties: " + String.join(", ", diffs));
        }
        return toImage(r);
    }

    @Override
    public Optional<Image> findImage(ObjectId id, Credentials credentials) throws StorageException {
        ensureOpen();
        return ready(RecordKind.IMAGE, id).map(this::toImage);
    }

    @Override
    public Optional<Image> findImageByName(String name, Credentials credentials) throws StorageException {
        ensureOpen();
        return journal.byName(RecordKind.IMAGE, name).filter(r -> r.state() == State.READY).map(this::toImage);
    }

    @Override
    public Optional<String> imageCondition(ObjectId id, Credentials credentials) throws StorageException {
        ensureOpen();
        JournalRecord r = ready(RecordKind.IMAGE, id)
                .orElseThrow(() -> new StorageException.NotFound("image " + id + " not found"));
        Path file = journal.dataFile(r);
        if (!Files.isRegularFile(file)) {
            return Optional.of("the data file " + file + " of image " + id + " is missing");
        }
        return Optional.empty();
    }

    @Override
    public void deleteImage(ObjectId id, Credentials credentials) throws StorageException {
        ensureOpen();
        if (!ours(RecordKind.IMAGE, id)) {
            return;
        }
        try (KeyedLocks.Held l = locks.lock("image:" + id.uuid(), "image " + id)) {
            Optional<JournalRecord> found = journal.get(RecordKind.IMAGE, id.uuid())
                    .filter(r -> r.id().equals(id.encode()));
            if (found.isEmpty() || found.get().state() == State.RESERVED) {
                return; // absent (a RESERVED record belongs to a create that has not answered: not this id's owner)
            }
            JournalRecord r = found.get();
            List<Path> devices = attachedDevices(r);
            if (!devices.isEmpty()) {
                throw new StorageException.FailedPrecondition("image " + id + " is attached as " + devices
                        + " on this node; unstage (detach) it before deleting it");
            }
            long start = System.nanoTime();
            try {
                if (r.state() == State.READY) {
                    r = journal.markDeleting(r);
                }
                journal.finishDelete(r);
            } catch (IOException e) {
                throw failure("deleting image " + id, e);
            }
            log.atInfo().addKeyValue("image_id", id).addKeyValue("name", r.name())
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("image deleted");
        }
    }

    @Override
    public Image resizeImage(ObjectId id, long sizeBytes, Credentials credentials) throws StorageException {
        ensureOpen();
        if (sizeBytes <= 0) {
            throw new StorageException.InvalidArgument("size must be positive, got " + sizeBytes);
        }
        checkSize(sizeBytes);
        try (KeyedLocks.Held l = locks.lock("image:" + id.uuid(), "image " + id)) {
            JournalRecord r = ready(RecordKind.IMAGE, id)
                    .orElseThrow(() -> new StorageException.NotFound("image " + id + " not found"));
            if (sizeBytes < r.sizeBytes()) {
                throw new StorageException.OutOfRange("image " + id + " is " + r.sizeBytes()
                        + " bytes; shrinking it to " + sizeBytes + " bytes is not supported");
            }
            if (sizeBytes == r.sizeBytes()) {
                return toImage(r);
            }
            try {
                files.grow(journal.dataFile(r), sizeBytes);
                Failpoints.hit(Point.LOCAL_RESIZE_FILE_GROWN);
                JournalRecord grown = journal.resized(r, sizeBytes);
                log.atInfo().addKeyValue("image_id", id).addKeyValue("size_bytes", sizeBytes).log("image resized");
                return toImage(grown);
            } catch (IOException e) {
                throw failure("resizing image " + id, e);
            }
        }
    }

    @Override
    public Page<Image> listImages(PageRequest page, Credentials credentials) throws StorageException {
        ensureOpen();
        return page(RecordKind.IMAGE, page, r -> true, this::toImage);
    }

    // ---------------------------------------------------------------- snapshots

    @Override
    public Snapshot createSnapshot(SnapshotSpec spec, Credentials credentials) throws StorageException {
        ensureOpen();
        if (!spec.parameters().isEmpty()) {
            throw new StorageException.InvalidArgument("unknown snapshot parameter(s) "
                    + new TreeSet<>(spec.parameters().keySet()) + "; the local backend accepts none");
        }
        long start = System.nanoTime();
        try (KeyedLocks.Held l = locks.lock("snapshot-name:" + spec.name(), "snapshot '" + spec.name() + "'")) {
            Optional<JournalRecord> existing = journal.byName(RecordKind.SNAPSHOT, spec.name());
            if (existing.isPresent()) {
                JournalRecord r = existing.get();
                switch (r.state()) {
                    case READY -> {
                        if (!r.sourceId().equals(spec.source().encode())) {
                            throw new StorageException.Conflict("snapshot '" + spec.name() + "' exists as " + r.id()
                                    + " of another source (" + r.sourceId() + ")");
                        }
                        return toSnapshot(r);
                    }
                    case DELETING -> throw new StorageException.Pending("snapshot '" + spec.name() + "' ("
                            + r.id() + ") is being deleted; retry when the delete has finished");
                    case RESERVED -> undoQuietly(r);
                    default -> throw new IllegalStateException(r.state().toString());
                }
            }
            JournalRecord image = ready(RecordKind.IMAGE, spec.source()).orElseThrow(
                    () -> new StorageException.NotFound("source image " + spec.source() + " not found"));
            ObjectId id = ObjectId.newSnapshot(KIND, config.nodeId(), image.pool());
            JournalRecord reserved = new JournalRecord(RecordKind.SNAPSHOT, id.encode(), spec.name(), State.RESERVED,
                    image.sizeBytes(), image.sizeBytes(), image.id(), Map.of(), Map.of(), clock.instant().toString(),
                    null);
            try {
                journal.reserve(reserved);
            } catch (IOException e) {
                throw failure("reserving snapshot '" + spec.name() + "'", e);
            }
            boolean committed = false;
            try {
                Path file = journal.dataFile(reserved);
                DataFiles.Method method = files.copy(journal.dataFile(image), file, image.sizeBytes());
                // Immutable by convention: read-only for everyone (root ignores it, the intent is on record).
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--------"));
                Failpoints.hit(Point.LOCAL_SNAPSHOT_FILE_WRITTEN);
                JournalRecord ready = reserved.ready(Files.size(file), method.id);
                journal.commit(ready);
                committed = true;
                log.atInfo().addKeyValue("snapshot_id", id).addKeyValue("name", spec.name())
                        .addKeyValue("source", image.id()).addKeyValue("size_bytes", ready.sizeBytes())
                        .addKeyValue("method", method.id)
                        .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("snapshot created");
                return toSnapshot(ready);
            } catch (NoSuchFileException e) {
                throw new StorageException.NotFound("source image " + spec.source() + " was deleted while it was"
                        + " being snapshotted");
            } catch (IOException e) {
                throw failure("creating snapshot '" + spec.name() + "'", e);
            } finally {
                if (!committed) {
                    undoQuietly(reserved);
                }
            }
        }
    }

    @Override
    public Optional<Snapshot> findSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        ensureOpen();
        return ready(RecordKind.SNAPSHOT, id).map(this::toSnapshot);
    }

    @Override
    public void deleteSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        ensureOpen();
        if (!ours(RecordKind.SNAPSHOT, id)) {
            return;
        }
        try (KeyedLocks.Held l = locks.lock("snapshot:" + id.uuid(), "snapshot " + id)) {
            Optional<JournalRecord> found = journal.get(RecordKind.SNAPSHOT, id.uuid())
                    .filter(r -> r.id().equals(id.encode()));
            if (found.isEmpty() || found.get().state() == State.RESERVED) {
                return;
            }
            JournalRecord r = found.get();
            try {
                if (r.state() == State.READY) {
                    r = journal.markDeleting(r);
                }
                journal.finishDelete(r);
            } catch (IOException e) {
                throw failure("deleting snapshot " + id, e);
            }
            log.atInfo().addKeyValue("snapshot_id", id).addKeyValue("name", r.name()).log("snapshot deleted");
        }
    }

    @Override
    public Page<Snapshot> listSnapshots(Optional<ObjectId> source, Optional<ObjectId> id, PageRequest page,
            Credentials credentials) throws StorageException {
        ensureOpen();
        Predicate<JournalRecord> filter = r -> source.map(s -> s.encode().equals(r.sourceId())).orElse(true)
                && id.map(i -> i.encode().equals(r.id())).orElse(true);
        return page(RecordKind.SNAPSHOT, page, filter, this::toSnapshot);
    }

    // ---------------------------------------------------------------- attach

    @Override
    public Attachment attach(ObjectId image, boolean readOnly, Credentials credentials) throws StorageException {
        ensureOpen();
        try (KeyedLocks.Held l = locks.lock("image:" + image.uuid(), "image " + image)) {
            JournalRecord r = ready(RecordKind.IMAGE, image)
                    .orElseThrow(() -> new StorageException.NotFound("image " + image + " not found"));
            Path file = journal.dataFile(r);
            try {
                Optional<AttachmentRecord> recorded = readAttachment(image.uuid());
                if (recorded.isPresent() && recorded.get().detaching()) {
                    finishDetach(image, recorded.get()); // a detach cut short: finish it, then attach afresh
                    recorded = Optional.empty();
                }
                if (recorded.isPresent()) {
                    if (loops.isAttachedTo(recorded.get().devicePath(), file)) {
                        return recorded.get().toAttachment();
                    }
                    log.atWarn().addKeyValue("image_id", image).addKeyValue("device", recorded.get().device())
                            .log("the recorded loop device no longer backs this image; attaching it again");
                }
                return record(image, file, readOnly).toAttachment();
            } catch (IOException e) {
                throw failure("attaching image " + image, e);
            } catch (CommandException e) {
                throw new StorageException.Internal("attaching image " + image + ": " + e.getMessage(), e);
            }
        }
    }

    /** Attaches {@code file} (or adopts a device already backed by it) and records the attachment. */
    private AttachmentRecord record(ObjectId image, Path file, boolean readOnly) throws IOException, CommandException {
        List<Path> existing = loops.devicesBackedBy(file);
        Path device;
        boolean ro;
        boolean attachedNow = false;
        if (!existing.isEmpty()) {
            // Attached but not recorded: a crash between losetup and the record. Adopt, never duplicate.
            device = existing.get(0);
            ro = loops.readOnly(device);
            log.atInfo().addKeyValue("image_id", image).addKeyValue("device", device)
                    .log("adopting a loop device that already backs this image");
        } else {
            long start = System.nanoTime();
            device = loops.attach(file, readOnly);
            ro = readOnly;
            attachedNow = true;
            Failpoints.hit(Point.LOCAL_ATTACH_LOOP_ATTACHED);
            log.atInfo().addKeyValue("image_id", image).addKeyValue("device", device).addKeyValue("read_only", ro)
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("image attached");
        }
        AttachmentRecord a = new AttachmentRecord(image.encode(), device.toString(), file.toString(), ro,
                clock.instant().toString(), false);
        boolean recorded = false;
        try {
            journal.durability().write(layout.attachment(image.uuid()), AttachmentRecord.FORMAT, a);
            recorded = true;
        } finally {
            if (!recorded && attachedNow) {
                detachQuietly(device, file);
            }
        }
        Failpoints.hit(Point.LOCAL_ATTACH_RECORDED);
        return a;
    }

    @Override
    public Optional<Attachment> findAttachment(ObjectId image) throws StorageException {
        ensureOpen();
        if (!ours(RecordKind.IMAGE, image)) {
            return Optional.empty();
        }
        try {
            Optional<AttachmentRecord> a = readAttachment(image.uuid());
            if (a.isPresent() && !a.get().detaching() && a.get().image().equals(image.encode())
                    && loops.isAttachedTo(a.get().devicePath(), a.get().backingPath())) {
                return Optional.of(a.get().toAttachment());
            }
            return Optional.empty();
        } catch (IOException e) {
            throw failure("reading the attachment of image " + image, e);
        }
    }

    @Override
    public Attachment refreshAttachment(ObjectId image) throws StorageException {
        ensureOpen();
        try (KeyedLocks.Held l = locks.lock("image:" + image.uuid(), "image " + image)) {
            Attachment a = findAttachment(image).orElseThrow(
                    () -> new StorageException.NotFound("image " + image + " is not attached on this node"));
            loops.refresh(a.device());
            return a;
        } catch (CommandException e) {
            throw new StorageException.Internal("refreshing the loop device of image " + image + ": "
                    + e.getMessage(), e);
        }
    }

    @Override
    public void detach(ObjectId image) throws StorageException {
        ensureOpen();
        if (!ours(RecordKind.IMAGE, image)) {
            return;
        }
        try (KeyedLocks.Held l = locks.lock("image:" + image.uuid(), "image " + image)) {
            Optional<AttachmentRecord> recorded = readAttachment(image.uuid());
            if (recorded.isEmpty()) {
                return;
            }
            finishDetach(image, recorded.get());
        } catch (IOException e) {
            throw failure("detaching image " + image, e);
        } catch (CommandException e) {
            throw new StorageException.Internal("detaching image " + image + ": " + e.getMessage(), e);
        }
    }

    /**
     * Records the intent (DETACHING), detaches the device if it still backs the image's file, and
     * forgets the attachment. Also how startup finishes a detach a crash interrupted.
     */
    private void finishDetach(ObjectId image, AttachmentRecord recorded)
            throws IOException, CommandException, StorageException {
        AttachmentRecord a = recorded;
        if (!a.detaching()) {
            a = a.asDetaching();
            journal.durability().write(layout.attachment(image.uuid()), AttachmentRecord.FORMAT, a);
            Failpoints.hit(Point.LOCAL_DETACH_INTENT);
        }
        Path device = a.devicePath();
        if (loops.isAttachedTo(device, a.backingPath())) {
            long start = System.nanoTime();
            loops.detach(device);
            if (!settled(device, a.backingPath())) {
                throw new StorageException.FailedPrecondition("loop device " + device + " of image " + image
                        + " is still in use (mounted or open); the kernel detaches it when it is closed");
            }
            Failpoints.hit(Point.LOCAL_DETACH_LOOP_DETACHED);
            log.atInfo().addKeyValue("image_id", image).addKeyValue("device", device)
                    .addKeyValue("duration_ms", (System.nanoTime() - start) / 1_000_000).log("image detached");
        } else {
            // The device is gone (detached before a crash, or lost in a reboot) or now backs something else.
            log.atInfo().addKeyValue("image_id", image).addKeyValue("device", device)
                    .log("recorded loop device no longer backs this image; forgetting it");
        }
        journal.durability().remove(layout.attachment(image.uuid()));
        Failpoints.hit(Point.LOCAL_DETACH_DONE);
    }

    /** Waits briefly for the kernel to release a detached device (the clear happens at its last close). */
    private boolean settled(Path device, Path file) throws IOException {
        long deadline = System.nanoTime() + DETACH_SETTLE.toNanos();
        while (loops.isAttachedTo(device, file)) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    @Override
    public List<Attachment> attachments() throws StorageException {
        ensureOpen();
        List<Attachment> out = new ArrayList<>();
        try {
            for (AttachmentRecord a : readAttachments()) {
                if (!a.detaching()) {
                    out.add(a.toAttachment());
                }
            }
        } catch (IOException e) {
            throw failure("listing attachments", e);
        }
        return out;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            ownership.close();
        } catch (IOException e) {
            log.atWarn().setCause(e).addKeyValue("data_dir", layout.root()).log("releasing the data dir lock failed");
        }
    }

    // ---------------------------------------------------------------- recovery of node state

    /**
     * Re-adopts the recorded attachments: a device still backed by its image is kept; one the
     * kernel lost is attached again (when configured); a device backed by one of our images that
     * no record names (a crash between losetup and the record) is recorded.
     */
    private void recoverAttachments() throws IOException {
        Set<UUID> recorded = new HashSet<>();
        for (AttachmentRecord a : readAttachments()) {
            ObjectId image = a.imageId();
            recorded.add(image.uuid());
            if (a.detaching()) {
                log.atInfo().addKeyValue("image_id", image).log("finishing a detach interrupted by a crash");
                try {
                    finishDetach(image, a);
                } catch (CommandException | StorageException e) {
                    log.atError().setCause(e).addKeyValue("image_id", image)
                            .log("finishing an interrupted detach failed; the next detach retries");
                }
                continue;
            }
            Optional<JournalRecord> r = journal.get(RecordKind.IMAGE, image.uuid())
                    .filter(x -> x.state() == State.READY && x.id().equals(a.image()));
            if (r.isEmpty()) {
                log.atWarn().addKeyValue("image_id", image).log("attachment of an image that no longer exists; forgetting it");
                journal.durability().remove(layout.attachment(image.uuid()));
                continue;
            }
            Path file = journal.dataFile(r.get());
            if (loops.isAttachedTo(a.devicePath(), file)) {
                continue;
            }
            if (!config.reattachOnStart()) {
                log.atWarn().addKeyValue("image_id", image).addKeyValue("device", a.device())
                        .log("recorded loop device is gone; it is attached again on the next attach");
                continue;
            }
            try {
                AttachmentRecord again = record(image, file, a.readOnly());
                log.atInfo().addKeyValue("image_id", image).addKeyValue("old_device", a.device())
                        .addKeyValue("device", again.device()).log("re-attached an image whose loop device was lost");
            } catch (CommandException e) {
                log.atError().setCause(e).addKeyValue("image_id", image)
                        .log("re-attaching an image whose loop device was lost failed; the next attach retries");
            }
        }
        Path poolsDir = layout.pools();
        for (Map.Entry<Path, Path> e : loops.scan().entrySet()) {
            Path backing = e.getValue();
            if (!backing.startsWith(poolsDir) || !backing.toString().endsWith(Layout.IMAGE_SUFFIX)) {
                continue;
            }
            Optional<JournalRecord> owner = journal.all(RecordKind.IMAGE).stream()
                    .filter(r -> r.state() == State.READY && journal.dataFile(r).equals(backing)).findFirst();
            if (owner.isEmpty() || recorded.contains(owner.get().uuid())) {
                continue;
            }
            ObjectId image = owner.get().objectId();
            AttachmentRecord a = new AttachmentRecord(image.encode(), e.getKey().toString(), backing.toString(),
                    loops.readOnly(e.getKey()), clock.instant().toString(), false);
            journal.durability().write(layout.attachment(image.uuid()), AttachmentRecord.FORMAT, a);
            recorded.add(image.uuid());
            log.atInfo().addKeyValue("image_id", image).addKeyValue("device", e.getKey())
                    .log("adopted a loop device attached before a crash");
        }
    }

    private Optional<AttachmentRecord> readAttachment(UUID image) throws IOException {
        Path file = layout.attachment(image);
        try {
            return Optional.of(AttachmentRecord.FORMAT.read(file, AttachmentRecord.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private List<AttachmentRecord> readAttachments() throws IOException {
        List<AttachmentRecord> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(layout.attachments())) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(".tmp")) {
                    Files.deleteIfExists(p); // an interrupted atomic write
                } else if (name.endsWith(Layout.RECORD_SUFFIX)) {
                    AttachmentRecord a = AttachmentRecord.FORMAT.read(p, AttachmentRecord.class);
                    if (!p.equals(layout.attachment(a.imageId().uuid()))) {
                        throw new IOException(p + ": attachment record of " + a.image() + " is misplaced");
                    }
                    out.add(a);
                }
            }
        }
        return out;
    }

    /** Devices backing the image now: the recorded one if alive, and any other (a manual losetup). */
    private List<Path> attachedDevices(JournalRecord r) throws StorageException {
        try {
            return loops.devicesBackedBy(journal.dataFile(r));
        } catch (IOException e) {
            throw failure("checking whether image " + r.id() + " is attached", e);
        }
    }

    private void detachQuietly(Path device, Path file) {
        try {
            if (loops.isAttachedTo(device, file)) {
                loops.detach(device);
            }
        } catch (IOException | CommandException e) {
            log.atWarn().setCause(e).addKeyValue("device", device).log("undoing an attach failed");
        }
    }

    // ---------------------------------------------------------------- helpers

    /** Where a new image's data comes from. */
    private record SourceData(String id, Path file, long sizeBytes) {
    }

    private SourceData resolveSource(ContentSource source) throws StorageException {
        if (source instanceof ContentSource.FromSnapshot s) {
            JournalRecord r = ready(RecordKind.SNAPSHOT, s.snapshot()).orElseThrow(
                    () -> new StorageException.NotFound("source snapshot " + s.snapshot() + " not found"));
            return new SourceData(r.id(), journal.dataFile(r), r.sizeBytes());
        }
        ObjectId image = ((ContentSource.FromImage) source).image();
        JournalRecord r = ready(RecordKind.IMAGE, image)
                .orElseThrow(() -> new StorageException.NotFound("source image " + image + " not found"));
        return new SourceData(r.id(), journal.dataFile(r), r.sizeBytes());
    }

    private boolean ours(RecordKind kind, ObjectId id) {
        return id.kind() == kind.idKind && id.backend().equals(KIND) && id.cluster().equals(config.nodeId())
                && pools.contains(id.pool());
    }

    private Optional<JournalRecord> ready(RecordKind kind, ObjectId id) {
        if (!ours(kind, id)) {
            return Optional.empty();
        }
        return journal.get(kind, id.uuid()).filter(r -> r.state() == State.READY && r.id().equals(id.encode()));
    }

    private String poolFor(Optional<String> specPool, Map<String, String> parameters) throws StorageException {
        for (String key : parameters.keySet()) {
            if (!key.equals(POOL_PARAMETER)) {
                throw new StorageException.InvalidArgument("unknown parameter '" + key
                        + "'; the local backend accepts: " + POOL_PARAMETER);
            }
        }
        Optional<String> param = Optional.ofNullable(parameters.get(POOL_PARAMETER));
        if (specPool.isPresent() && param.isPresent() && !specPool.get().equals(param.get())) {
            throw new StorageException.InvalidArgument("pool '" + specPool.get() + "' and parameter pool='"
                    + param.get() + "' disagree");
        }
        String pool = specPool.or(() -> param).orElse(config.defaultPool());
        if (!Layout.validPool(pool)) {
            throw new StorageException.InvalidArgument("pool name '" + shorten(pool) + "' is invalid (must match "
                    + Layout.POOL_NAME.pattern() + ")");
        }
        if (!config.pools().contains(pool)) {
            throw new StorageException.InvalidArgument("pool '" + pool + "' is not configured; configured pools: "
                    + new TreeSet<>(config.pools()));
        }
        return pool;
    }

    private void checkSize(long sizeBytes) throws StorageException {
        long max = config.maxImageBytes();
        if (max > 0 && sizeBytes > max) {
            throw new StorageException.OutOfRange("size " + sizeBytes + " bytes is above the largest image this"
                    + " backend creates (" + max + " bytes)");
        }
    }

    private <T> Page<T> page(RecordKind kind, PageRequest request, Predicate<JournalRecord> filter,
            Function<JournalRecord, T> convert) throws StorageException {
        String after = "";
        if (!request.startToken().isEmpty()) {
            var m = TOKEN.matcher(request.startToken());
            if (!m.matches() || !m.group(1).equals(kind == RecordKind.IMAGE ? "i" : "s")) {
                throw new StorageException.InvalidToken("list token '" + shorten(request.startToken())
                        + "' was not handed out by this backend for " + kind.noun() + "s; list again from the start");
            }
            after = m.group(2);
        }
        List<T> items = new ArrayList<>();
        String last = null;
        boolean more = false;
        for (JournalRecord r : journal.after(kind, after)) {
            if (r.state() != State.READY || !filter.test(r)) {
                continue;
            }
            if (request.maxEntries() > 0 && items.size() == request.maxEntries()) {
                more = true;
                break;
            }
            items.add(convert.apply(r));
            last = r.uuid().toString();
        }
        // The token is the last UUID returned: the next page starts after it even if it was deleted meanwhile.
        return new Page<>(items, more ? Optional.of((kind == RecordKind.IMAGE ? "i" : "s") + "1." + last)
                : Optional.empty());
    }

    private Image toImage(JournalRecord r) {
        return new Image(r.objectId(), r.name(), r.sizeBytes(), r.contentSource(), r.parameters(), r.metadata(),
                r.createdAt());
    }

    private Snapshot toSnapshot(JournalRecord r) {
        ObjectId source;
        try {
            source = ObjectId.parse(r.sourceId(), ObjectId.Kind.VOLUME);
        } catch (dev.nodekit.csi.spi.InvalidIdException e) {
            throw new IllegalStateException(e); // validated when the record was read
        }
        return new Snapshot(r.objectId(), r.name(), source, r.sizeBytes(), r.createdAt(), true);
    }

    private void undoQuietly(JournalRecord r) {
        try {
            journal.undo(r);
        } catch (IOException e) {
            // The RESERVED record stays; the next create of this name or the next startup undoes it.
            log.atError().setCause(e).addKeyValue("id", r.id()).addKeyValue("name", r.name())
                    .log("undoing an unfinished create failed");
        }
    }

    private void ensureOpen() throws StorageException {
        if (closed) {
            throw new StorageException.Unavailable("local backend for " + layout.root() + " is closed", null);
        }
    }

    private static StorageException failure(String what, IOException e) {
        String msg = String.valueOf(e.getMessage());
        int errno = e instanceof NativeIOException n ? n.errno() : 0;
        if (errno == LibC.ENOSPC || errno == LibC.EDQUOT || msg.contains("No space left on device")
                || msg.contains("Disk quota exceeded")) {
            return new StorageException.CapacityExceeded(what + ": " + msg);
        }
        if (errno == LibC.EFBIG || msg.contains("File too large")) {
            return new StorageException.OutOfRange(what + ": " + msg);
        }
        return new StorageException.Internal(what + ": " + msg, e);
    }

    private static String shorten(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() > 64 ? clean.substring(0, 64) + "..." : clean;
    }
}
