package dev.nodekit.csi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;

import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.Capacity;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.Credentials;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.Image;
import dev.nodekit.csi.spi.ImageSpec;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.Page;
import dev.nodekit.csi.spi.PageRequest;
import dev.nodekit.csi.spi.Snapshot;
import dev.nodekit.csi.spi.SnapshotSpec;
import dev.nodekit.csi.spi.StorageBackend;
import dev.nodekit.csi.spi.StorageException;

/**
 * An in-memory {@link StorageBackend} that keeps the SPI's rules: idempotent by name with
 * {@link StorageException.Conflict} for incompatible repeats, deletes of what is absent succeed,
 * foreign ids are not found, snapshots are independent of their source, attached images cannot be
 * deleted, list tokens are the last id returned (so they survive deletion of that entry) and
 * anything else is {@link StorageException.InvalidToken}. Each image carries a "data" string that
 * snapshots and clones copy, so tests can see content move.
 *
 * <p>Tests steer it: {@link #failNext} injects a failure into one operation, {@link #onCreate}
 * runs a hook inside createImage outside the lock (to hold creates in flight), {@link #loseDevice}
 * makes the "kernel" forget an attachment, {@link #setHealth} breaks it. Attachments are empty
 * files under a device directory standing in for {@code /dev/loopN}.
 */
public final class FakeBackend implements StorageBackend {
    static final String KIND = "fake";
    static final String POOL = "default";
    static final long TOTAL = 100L << 30;

    private final String cluster;
    private final Path deviceDir;
    private final Clock clock;
    private final AtomicInteger devices = new AtomicInteger();
    private final Map<ObjectId, Image> images = new HashMap<>();
    /** The size each image was first asked for: what an idempotent re-create compares. */
    private final Map<ObjectId, Long> requested = new HashMap<>();
    private final Map<String, ObjectId> imageNames = new HashMap<>();
    private final Map<ObjectId, String> data = new HashMap<>();
    private final Map<ObjectId, Snapshot> snapshots = new HashMap<>();
    private final Map<String, ObjectId> snapshotNames = new HashMap<>();
    private final Map<ObjectId, String> snapshotData = new HashMap<>();
    private final Map<ObjectId, Attachment> attachments = new HashMap<>();
    private final Map<Path, Long> deviceSizes = new HashMap<>();
    private final Set<ObjectId> lost = new HashSet<>();
    private final Map<ObjectId, String> broken = new HashMap<>();
    private final Map<String, Deque<Exception>> failures = new HashMap<>();
    private volatile Health health = Health.ok();
    private volatile List<String> parameterKeys = List.of("tier");
    private volatile long maxVolume;
    private volatile long minVolume;
    private volatile Hook createHook = spec -> { };
    private volatile Hook snapshotHook = spec -> { };
    private final AtomicInteger creates = new AtomicInteger();
    private final AtomicInteger capacityCalls = new AtomicInteger();
    private boolean closed;

    /** Runs inside an operation, outside the backend's lock. */
    @FunctionalInterface
    public interface Hook {
        void run(Object spec) throws StorageException;
    }

    public FakeBackend(String cluster, Path deviceDir) {
        this(cluster, deviceDir, Clock.systemUTC());
    }

    public FakeBackend(String cluster, Path deviceDir, Clock clock) {
        this.cluster = cluster;
        this.deviceDir = deviceDir;
        this.clock = clock;
    }

    /**
     * A backend on the same "storage": a copy of this one's state, as a restarted process would
     * find it (the kernel's attachments included). This one should be closed first.
     */
    public synchronized FakeBackend reopened() {
        FakeBackend b = new FakeBackend(cluster, deviceDir, clock);
        b.images.putAll(images);
        b.requested.putAll(requested);
        b.imageNames.putAll(imageNames);
        b.data.putAll(data);
        b.snapshots.putAll(snapshots);
        b.snapshotNames.putAll(snapshotNames);
        b.snapshotData.putAll(snapshotData);
        b.attachments.putAll(attachments);
        b.deviceSizes.putAll(deviceSizes);
        b.lost.addAll(lost);
        b.broken.putAll(broken);
        b.devices.set(devices.get());
        b.parameterKeys = parameterKeys;
        b.maxVolume = maxVolume;
        b.minVolume = minVolume;
        return b;
    }

    // ---- steering -------------------------------------------------------------------------------

    /** The next call of {@code operation} ("createImage", "attach"...) throws {@code e}. */
    public synchronized FakeBackend failNext(String operation, StorageException e) {
        failures.computeIfAbsent(operation, k -> new ArrayDeque<>()).add(e);
        return this;
    }

    /** The next call of {@code operation} throws {@code e}: a defect in a backend, as the driver must survive it. */
    public synchronized FakeBackend defectNext(String operation, RuntimeException e) {
        failures.computeIfAbsent(operation, k -> new ArrayDeque<>()).add(e);
        return this;
    }

    public FakeBackend onCreate(Hook hook) {
        this.createHook = hook;
        return this;
    }

    public FakeBackend onSnapshot(Hook hook) {
        this.snapshotHook = hook;
        return this;
    }

    public FakeBackend setHealth(Health h) {
        this.health = h;
        return this;
    }

    public FakeBackend setParameterKeys(List<String> keys) {
        this.parameterKeys = List.copyOf(keys);
        return this;
    }

    public FakeBackend setLimits(long minVolumeBytes, long maxVolumeBytes) {
        this.minVolume = minVolumeBytes;
        this.maxVolume = maxVolumeBytes;
        return this;
    }

    /** The kernel forgets the attachment of {@code id}; the backend's record stays. */
    public synchronized void loseDevice(ObjectId id) {
        lost.add(id);
    }

    /** The image's storage reports {@code reason} (its data file is gone...) while its record stays. */
    public synchronized void breakImage(ObjectId id, String reason) {
        broken.put(id, reason);
    }

    /** The image vanishes behind the backend's back (someone removed the file). */
    public synchronized void vanish(ObjectId id) {
        Image i = images.remove(id);
        if (i != null) {
            imageNames.remove(i.name());
        }
    }

    public synchronized String dataOf(ObjectId id) {
        return data.get(id);
    }

    public synchronized void write(ObjectId id, String content) {
        data.put(id, content);
    }

    public synchronized List<Image> images() {
        return List.copyOf(images.values());
    }

    public synchronized List<Snapshot> snapshots() {
        return List.copyOf(snapshots.values());
    }

    public synchronized Map<ObjectId, Attachment> attachmentMap() {
        return Map.copyOf(attachments);
    }

    /** The size the "device" of an attachment reports (what blockdev would print). */
    public synchronized long deviceSize(Path device) {
        Long s = deviceSizes.get(device);
        if (s == null) {
            throw new IllegalArgumentException("no fake device " + device);
        }
        return s;
    }

    public synchronized boolean isDevice(Path p) {
        return deviceSizes.containsKey(p);
    }

    public int capacityCalls() {
        return capacityCalls.get();
    }

    public int createCalls() {
        return creates.get();
    }

    public synchronized boolean closed() {
        return closed;
    }

    // ---- SPI ------------------------------------------------------------------------------------

    @Override
    public String kind() {
        return KIND;
    }

    @Override
    public Health health() {
        return health;
    }

    @Override
    public List<String> parameterKeys() {
        return parameterKeys;
    }

    @Override
    public synchronized Capacity capacity(Map<String, String> parameters, Credentials credentials)
            throws StorageException {
        capacityCalls.incrementAndGet();
        fail("capacity");
        checkPool(Optional.ofNullable(parameters.get("pool")));
        return new Capacity(TOTAL - used(), TOTAL, maxVolume, minVolume);
    }

    @Override
    public Image createImage(ImageSpec spec, Credentials credentials) throws StorageException {
        creates.incrementAndGet();
        synchronized (this) {
            fail("createImage");
            ObjectId existing = imageNames.get(spec.name());
            if (existing != null) {
                return compatible(images.get(existing), spec);
            }
            checkPool(spec.pool());
            for (String k : spec.parameters().keySet()) {
                if (!parameterKeys.contains(k)) {
                    throw new StorageException.InvalidArgument("parameter '" + k + "' is not known to the fake backend");
                }
            }
            if (spec.source().isPresent()) {
                long srcSize = sourceSize(spec.source().get());
                if (spec.sizeBytes() < srcSize) {
                    throw new StorageException.OutOfRange("size " + spec.sizeBytes() + " is below the source's " + srcSize);
                }
            }
            if (maxVolume > 0 && spec.sizeBytes() > maxVolume) {
                throw new StorageException.OutOfRange("size above maximum " + maxVolume);
            }
            if (used() + spec.sizeBytes() > TOTAL) {
                throw new StorageException.CapacityExceeded("no room for " + spec.sizeBytes() + " bytes");
            }
        }
        createHook.run(spec);
        synchronized (this) {
            ObjectId again = imageNames.get(spec.name());
            if (again != null) {
                return compatible(images.get(again), spec);
            }
            ObjectId id = ObjectId.newVolume(KIND, cluster, POOL);
            Image image = new Image(id, spec.name(), spec.sizeBytes(), spec.source(), spec.parameters(), spec.metadata(),
                    clock.instant());
            images.put(id, image);
            requested.put(id, spec.sizeBytes());
            imageNames.put(spec.name(), id);
            data.put(id, spec.source().map(this::sourceData).orElse(""));
            return image;
        }
    }

    private Image compatible(Image existing, ImageSpec spec) throws StorageException {
        if (requested.get(existing.id()) != spec.sizeBytes() || !existing.source().equals(spec.source())
                || !existing.parameters().equals(spec.parameters()) || !existing.metadata().equals(spec.metadata())
                || !spec.pool().orElse(POOL).equals(existing.id().pool())) {
            throw new StorageException.Conflict("image '" + spec.name() + "' exists with other properties");
        }
        return existing;
    }

    @Override
    public synchronized Optional<Image> findImage(ObjectId id, Credentials credentials) throws StorageException {
        fail("findImage");
        return Optional.ofNullable(images.get(id));
    }

    @Override
    public synchronized Optional<String> imageCondition(ObjectId id, Credentials credentials) throws StorageException {
        fail("imageCondition");
        if (!images.containsKey(id)) {
            throw new StorageException.NotFound("image " + id + " not found");
        }
        return Optional.ofNullable(broken.get(id));
    }

    @Override
    public synchronized Optional<Image> findImageByName(String name, Credentials credentials) throws StorageException {
        fail("findImageByName");
        ObjectId id = imageNames.get(name);
        return id == null ? Optional.empty() : Optional.ofNullable(images.get(id));
    }

    @Override
    public synchronized void deleteImage(ObjectId id, Credentials credentials) throws StorageException {
        fail("deleteImage");
        if (attachments.containsKey(id)) {
            throw new StorageException.FailedPrecondition("image " + id + " is attached at "
                    + attachments.get(id).device());
        }
        Image i = images.remove(id);
        if (i != null) {
            imageNames.remove(i.name());
            data.remove(id);
            requested.remove(id);
        }
    }

    @Override
    public synchronized Image resizeImage(ObjectId id, long sizeBytes, Credentials credentials)
            throws StorageException {
        fail("resizeImage");
        Image i = images.get(id);
        if (i == null) {
            throw new StorageException.NotFound("image " + id + " does not exist");
        }
        if (sizeBytes < i.sizeBytes()) {
            throw new StorageException.OutOfRange("cannot shrink " + id);
        }
        if (maxVolume > 0 && sizeBytes > maxVolume) {
            throw new StorageException.OutOfRange("size above maximum " + maxVolume);
        }
        Image grown = new Image(id, i.name(), sizeBytes, i.source(), i.parameters(), i.metadata(), i.created());
        images.put(id, grown);
        return grown;
    }

    @Override
    public synchronized Page<Image> listImages(PageRequest page, Credentials credentials) throws StorageException {
        fail("listImages");
        TreeMap<String, Image> sorted = new TreeMap<>();
        images.values().forEach(i -> sorted.put(i.id().encode(), i));
        return page(sorted, page, ObjectId.Kind.VOLUME);
    }

    @Override
    public Snapshot createSnapshot(SnapshotSpec spec, Credentials credentials) throws StorageException {
        synchronized (this) {
            fail("createSnapshot");
            if (!spec.parameters().isEmpty()) {
                throw new StorageException.InvalidArgument("snapshot parameter '"
                        + spec.parameters().keySet().iterator().next() + "' is not known to the fake backend");
            }
            ObjectId existing = snapshotNames.get(spec.name());
            if (existing != null) {
                Snapshot s = snapshots.get(existing);
                if (!s.source().equals(spec.source())) {
                    throw new StorageException.Conflict("snapshot '" + spec.name() + "' exists for another source");
                }
                return s;
            }
            if (!images.containsKey(spec.source())) {
                throw new StorageException.NotFound("source volume " + spec.source() + " does not exist");
            }
        }
        snapshotHook.run(spec);
        synchronized (this) {
            Image src = images.get(spec.source());
            if (src == null) {
                throw new StorageException.NotFound("source volume " + spec.source() + " does not exist");
            }
            ObjectId id = ObjectId.newSnapshot(KIND, cluster, POOL);
            Snapshot s = new Snapshot(id, spec.name(), spec.source(), src.sizeBytes(), clock.instant(), true);
            snapshots.put(id, s);
            snapshotNames.put(spec.name(), id);
            snapshotData.put(id, data.getOrDefault(spec.source(), ""));
            return s;
        }
    }

    @Override
    public synchronized Optional<Snapshot> findSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        fail("findSnapshot");
        return Optional.ofNullable(snapshots.get(id));
    }

    @Override
    public synchronized void deleteSnapshot(ObjectId id, Credentials credentials) throws StorageException {
        fail("deleteSnapshot");
        Snapshot s = snapshots.remove(id);
        if (s != null) {
            snapshotNames.remove(s.name());
            snapshotData.remove(id);
        }
    }

    @Override
    public synchronized Page<Snapshot> listSnapshots(Optional<ObjectId> source, Optional<ObjectId> id, PageRequest page,
            Credentials credentials) throws StorageException {
        fail("listSnapshots");
        TreeMap<String, Snapshot> sorted = new TreeMap<>();
        for (Snapshot s : snapshots.values()) {
            if (source.map(x -> x.equals(s.source())).orElse(true) && id.map(x -> x.equals(s.id())).orElse(true)) {
                sorted.put(s.id().encode(), s);
            }
        }
        return page(sorted, page, ObjectId.Kind.SNAPSHOT);
    }

    @Override
    public synchronized Attachment attach(ObjectId image, boolean readOnly, Credentials credentials)
            throws StorageException {
        fail("attach");
        Image i = images.get(image);
        if (i == null) {
            throw new StorageException.NotFound("image " + image + " does not exist");
        }
        Attachment a = attachments.get(image);
        if (a != null && !lost.contains(image) && Files.exists(a.device())) {
            return a;
        }
        if (a != null) {
            deviceSizes.remove(a.device());
        }
        lost.remove(image);
        Path device = deviceDir.resolve("fakeloop" + devices.getAndIncrement());
        try {
            Files.createDirectories(deviceDir);
            Files.createFile(device);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Attachment fresh = new Attachment(image, device, readOnly, Map.of("backing", "fake:" + image));
        attachments.put(image, fresh);
        deviceSizes.put(device, i.sizeBytes());
        return fresh;
    }

    @Override
    public synchronized Optional<Attachment> findAttachment(ObjectId image) throws StorageException {
        fail("findAttachment");
        Attachment a = attachments.get(image);
        if (a == null || lost.contains(image)) {
            return Optional.empty();
        }
        return Optional.of(a);
    }

    @Override
    public synchronized Attachment refreshAttachment(ObjectId image) throws StorageException {
        fail("refreshAttachment");
        Attachment a = findAttachment(image)
                .orElseThrow(() -> new StorageException.FailedPrecondition("image " + image + " is not attached"));
        Image i = images.get(image);
        if (i != null) {
            deviceSizes.put(a.device(), i.sizeBytes());
        }
        return a;
    }

    @Override
    public synchronized void detach(ObjectId image) throws StorageException {
        fail("detach");
        Attachment a = attachments.remove(image);
        lost.remove(image);
        if (a != null) {
            deviceSizes.remove(a.device());
            try {
                Files.deleteIfExists(a.device());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    @Override
    public synchronized List<Attachment> attachments() throws StorageException {
        fail("attachments");
        return List.copyOf(attachments.values());
    }

    @Override
    public synchronized void close() {
        closed = true;
    }

    // ---- helpers --------------------------------------------------------------------------------

    private void fail(String op) throws StorageException {
        Deque<Exception> q = failures.get(op);
        if (q != null && !q.isEmpty()) {
            Exception e = q.poll();
            if (e instanceof RuntimeException r) {
                throw r;
            }
            throw (StorageException) e;
        }
    }

    private void checkPool(Optional<String> pool) throws StorageException {
        if (pool.isPresent() && !pool.get().equals(POOL)) {
            throw new StorageException.InvalidArgument("pool '" + pool.get() + "' does not exist");
        }
    }

    private long used() {
        return images.values().stream().mapToLong(Image::sizeBytes).sum();
    }

    private long sourceSize(ContentSource s) throws StorageException {
        if (s instanceof ContentSource.FromSnapshot fs) {
            Snapshot snap = snapshots.get(fs.snapshot());
            if (snap == null) {
                throw new StorageException.NotFound("snapshot " + fs.snapshot() + " does not exist");
            }
            return snap.sizeBytes();
        }
        ObjectId img = ((ContentSource.FromImage) s).image();
        Image i = images.get(img);
        if (i == null) {
            throw new StorageException.NotFound("image " + img + " does not exist");
        }
        return i.sizeBytes();
    }

    private String sourceData(ContentSource s) {
        if (s instanceof ContentSource.FromSnapshot fs) {
            return snapshotData.getOrDefault(fs.snapshot(), "");
        }
        return data.getOrDefault(((ContentSource.FromImage) s).image(), "");
    }

    private static <T> Page<T> page(TreeMap<String, T> sorted, PageRequest page, ObjectId.Kind kind)
            throws StorageException {
        Map<String, T> tail = sorted;
        if (!page.startToken().isEmpty()) {
            try {
                ObjectId.parse(page.startToken(), kind);
            } catch (InvalidIdException e) {
                throw new StorageException.InvalidToken("token '" + page.startToken() + "' was not handed out here");
            }
            tail = sorted.tailMap(page.startToken(), false);
        }
        List<T> items = new ArrayList<>();
        String last = null;
        for (Map.Entry<String, T> e : tail.entrySet()) {
            if (page.maxEntries() > 0 && items.size() == page.maxEntries()) {
                return new Page<>(items, Optional.of(last));
            }
            items.add(e.getValue());
            last = e.getKey();
        }
        return new Page<>(items, Optional.empty());
    }

    @Override
    public String toString() {
        return "FakeBackend[" + cluster + "]";
    }
}
