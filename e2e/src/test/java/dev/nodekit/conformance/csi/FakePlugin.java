package dev.nodekit.conformance.csi;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import com.google.protobuf.Any;
import com.google.protobuf.Int64Value;
import com.google.protobuf.StringValue;
import com.google.protobuf.Timestamp;

import dev.nodekit.spec.csi.v1.ControllerServiceCapability;
import dev.nodekit.spec.csi.v1.NodeServiceCapability;
import dev.nodekit.spec.csi.v1.PluginCapability;
import dev.nodekit.spec.csi.v1.Topology;
import dev.nodekit.spec.csi.v1.Volume;
import dev.nodekit.spec.csi.v1.VolumeCapability;
import dev.nodekit.spec.csi.v1.VolumeContentSource;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;

/**
 * A small, spec-correct CSI plugin for the conformance suite's own tests, in the spirit of
 * csi-driver-host-path: controller state in memory; on the node, mount volumes are directories
 * (each backed by a tmpfs sized like the volume, so statvfs, expansion and stats are real) and
 * block volumes are sparse files attached to loop devices; staging and publishing are bind mounts.
 * Snapshots and clones are copies taken at the moment they are cut.
 *
 * <p>Everything a check must be able to catch can be broken on purpose: {@link #defects} holds
 * the injected {@link Defect}s and {@link #unvalidated} the required fields whose INVALID_ARGUMENT
 * check is switched off ({@code "CreateVolume.name"}...). Without {@link #realMounts} (unit tests)
 * any step that would mount answers INTERNAL, so a unit test can never touch the host's mounts.
 *
 * <p>Known simplifications: one node; fs_type and mount_flags are accepted but the filesystem is
 * always tmpfs; the node plugin shares the controller's memory instead of reading publish_context.
 */
final class FakePlugin implements AutoCloseable {
    static final String NODE_ID = "fake-node-1";
    static final String TOPOLOGY_KEY = "topology.fake.nodekit.dev/node";
    static final String TIER_KEY = "fake.nodekit.dev/tier";
    static final long DEFAULT_SIZE = 64L << 20;
    static final long MIN_SIZE = 1L << 20;
    static final long MAX_SIZE = 1L << 40;
    static final long TOTAL_CAPACITY = 1L << 44;
    private static final Pattern VOLUME_ID = Pattern.compile("fakevol-[0-9a-f-]{36}");
    private static final Pattern SNAPSHOT_ID = Pattern.compile("fakesnap-[0-9a-f-]{36}");

    /** One deviation from the spec (or from honest behaviour), named after what it breaks. */
    enum Defect {
        // controller
        DUPLICATE_CONTROLLER_CAPABILITY, NEGATIVE_AVAILABLE_CAPACITY, CAPACITY_BELOW_REQUIRED, REJECT_LONG_NAMES,
        CREATE_NOT_IDEMPOTENT, CREATE_RACE, CREATE_IGNORES_SIZE_CONFLICT, CREATE_IGNORES_SOURCE_CONFLICT, IGNORE_LIMIT,
        NO_MAX_SIZE_ENFORCED, WRONG_TOPOLOGY, DELETE_UNKNOWN_NOT_FOUND, DELETE_KEEPS_VOLUME, VALIDATE_NEVER_CONFIRMS,
        VALIDATE_UNKNOWN_OK, LIST_SHOWS_DELETED, LIST_IGNORES_MAX_ENTRIES, BAD_TOKEN_RESTARTS,
        TOKEN_NEEDS_EXISTING_ENTRY, GET_VOLUME_NO_CONDITION, GET_VOLUME_UNKNOWN_INTERNAL, CPUBLISH_UNKNOWN_VOLUME_OK,
        CPUBLISH_ANY_NODE, CPUBLISH_NOT_IDEMPOTENT, CPUBLISH_IGNORES_READONLY, CUNPUBLISH_NOT_PUBLISHED_NOT_FOUND,
        MODIFY_UNKNOWN_OK, MODIFY_ACCEPTS_ANY,
        // snapshots, restores, clones
        SNAPSHOT_NO_CREATION_TIME, SNAPSHOT_NOT_IDEMPOTENT, SNAPSHOT_RACE, SNAPSHOT_IGNORES_SOURCE_CONFLICT,
        SNAPSHOT_UNKNOWN_SOURCE_INTERNAL, DELETE_SNAPSHOT_UNKNOWN_NOT_FOUND, DELETE_SNAPSHOT_KEEPS,
        LIST_SNAPSHOTS_NO_SOURCE, LIST_SNAPSHOTS_IGNORES_ID_FILTER, LIST_SNAPSHOTS_IGNORES_SOURCE_FILTER,
        LIST_SNAPSHOTS_UNKNOWN_FILTER_NOT_FOUND, LIST_SNAPSHOTS_NO_NEXT_TOKEN, GET_SNAPSHOT_WRONG_SOURCE,
        GET_SNAPSHOT_UNKNOWN_INTERNAL, RESTORE_WRONG_CONTENT_SOURCE, RESTORE_UNKNOWN_SNAPSHOT_EMPTY,
        RESTORE_ALLOWS_SMALLER, RESTORE_LARGER_SILENTLY_SMALLER, SNAPSHOT_WITHOUT_DATA, RESTORE_DOES_NOT_GROW_FS,
        CLONE_CAPACITY_SMALLER, CLONE_UNKNOWN_SOURCE_EMPTY, CLONE_ALLOWS_SMALLER, CLONE_SHARES_SOURCE,
        // expansion
        EXPAND_NO_NODE_EXPANSION, EXPAND_SHRINKS, EXPAND_UNKNOWN_OK, EXPAND_IGNORES_LIMIT, NODE_EXPAND_NOOP,
        // node
        DUPLICATE_NODE_CAPABILITY, NODE_ID_TOO_LONG, PUBLISH_WITHOUT_STAGING_OK, NODE_UNKNOWN_VOLUME_INTERNAL,
        UNPUBLISH_NOT_PUBLISHED_NOT_FOUND, UNSTAGE_NOT_STAGED_NOT_FOUND, STAGE_WITHOUT_MOUNT, PUBLISH_MKDIR_ONLY,
        PUBLISH_BINDS_WRONG_DIR, IGNORE_READONLY, LEAVE_TARGET_DIR, UNSTAGE_KEEPS_MOUNT, STAGE_STACKS_MOUNTS,
        PUBLISH_STACKS_MOUNTS, UNPUBLISH_SECOND_CALL_FAILS, UNSTAGE_SECOND_CALL_FAILS, PUBLISH_IGNORES_ARG_CHANGE,
        SINGLE_WRITER_ALLOWS_SECOND, MULTI_WRITER_REFUSES_SECOND, STATIC_STATS, STATS_ANY_PATH, NO_VOLUME_CONDITION,
        BLOCK_TARGET_NOT_DEVICE, BLOCK_STATS_ZERO,
        // errors
        ERROR_DETAILS
    }

    /** Volume access types the fake keeps. */
    enum Kind { MOUNT, BLOCK }

    final Set<Defect> defects = ConcurrentHashMap.newKeySet();
    final Set<String> unvalidated = ConcurrentHashMap.newKeySet();
    final Set<ControllerServiceCapability.RPC.Type> controllerCaps = ConcurrentHashMap.newKeySet();
    final Set<NodeServiceCapability.RPC.Type> nodeCaps = ConcurrentHashMap.newKeySet();
    volatile boolean controllerService = true;
    volatile boolean accessibility = true;
    volatile PluginCapability.VolumeExpansion.Type expansion =
            PluginCapability.VolumeExpansion.Type.ONLINE;
    /** Secrets every secret-carrying call must carry (UNAUTHENTICATED otherwise); empty: none needed. */
    volatile Map<String, String> requiredSecrets = Map.of();

    final boolean realMounts;
    final Path dataDir;
    private final Path volsDir;
    private final Path seedDir;
    private final Path snapsDir;
    private final Path scratchDir;

    // ---- state (guarded by this)
    final TreeMap<String, Vol> volumes = new TreeMap<>();
    final Map<String, String> volumeByName = new HashMap<>();
    final TreeMap<String, Snap> snapshots = new TreeMap<>();
    final Map<String, String> snapshotByName = new HashMap<>();
    /** Ids deleted while DELETE_KEEPS_VOLUME / LIST_SHOWS_DELETED are on: still shown. */
    final Map<String, Vol> ghosts = new TreeMap<>();
    private final Set<String> busy = ConcurrentHashMap.newKeySet();
    private final Set<String> loops = ConcurrentHashMap.newKeySet();

    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    /** A volume: what the controller knows and what the node did with it. */
    static final class Vol {
        final String id;
        final String name;
        final Kind kind;
        final VolumeCapability.AccessMode.Mode mode;
        final Map<String, String> parameters;
        final VolumeContentSource source;
        volatile long capacity;
        volatile Volume proto;
        /** node id -> readonly */
        final Map<String, Boolean> controllerPublished = new ConcurrentHashMap<>();
        /** staging path -> capability */
        final Map<Path, VolumeCapability> staged = new ConcurrentHashMap<>();
        /** target path -> readonly */
        final Map<Path, Boolean> published = new ConcurrentHashMap<>();
        /** tmpfs mounted at the volume dir (mount volumes) */
        volatile boolean active;
        /** the loop device of a staged block volume */
        volatile String loop;
        /** mount volumes: the tmpfs size limit actually applied (may lag capacity until NodeExpand) */
        volatile long fsSize;
        /** RESTORE_DOES_NOT_GROW_FS: the tmpfs is made this size instead of the capacity (0: capacity) */
        volatile long fsOverride;
        /** CLONE_SHARES_SOURCE: the clone copies its source only when first used, not when cut */
        volatile Vol lazySource;
        /** targets / staging paths undone once, for the *_SECOND_CALL_FAILS defects */
        final Set<Path> unpublishedOnce = ConcurrentHashMap.newKeySet();
        final Set<Path> unstagedOnce = ConcurrentHashMap.newKeySet();
        /** target path -> capability it was published with */
        final Map<Path, VolumeCapability> publishedCaps = new ConcurrentHashMap<>();

        Vol(String id, String name, Kind kind, VolumeCapability.AccessMode.Mode mode,
                Map<String, String> parameters, VolumeContentSource source, long capacity) {
            this.id = id;
            this.name = name;
            this.kind = kind;
            this.mode = mode;
            this.parameters = Map.copyOf(parameters);
            this.source = source;
            this.capacity = capacity;
        }
    }

    /** A snapshot: its data is a copy taken when it was cut. */
    static final class Snap {
        final String id;
        final String name;
        final String sourceVolumeId;
        final long size;
        final Kind kind;
        final Timestamp created;

        Snap(String id, String name, String sourceVolumeId, long size, Kind kind, Timestamp created) {
            this.id = id;
            this.name = name;
            this.sourceVolumeId = sourceVolumeId;
            this.size = size;
            this.kind = kind;
            this.created = created;
        }
    }

    /**
     * A healthy fake advertising every capability this suite knows. {@code realMounts} lets node
     * operations mount (integration tests, as root); {@code dataDir} holds volume and snapshot data.
     */
    FakePlugin(Path dataDir, boolean realMounts) throws IOException {
        this.realMounts = realMounts;
        this.dataDir = dataDir;
        this.volsDir = Files.createDirectories(dataDir.resolve("vols"));
        this.seedDir = Files.createDirectories(dataDir.resolve("seed"));
        this.snapsDir = Files.createDirectories(dataDir.resolve("snaps"));
        this.scratchDir = Files.createDirectories(dataDir.resolve("scratch"));
        controllerCaps.addAll(EnumSet.of(
                ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
                ControllerServiceCapability.RPC.Type.PUBLISH_UNPUBLISH_VOLUME,
                ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
                ControllerServiceCapability.RPC.Type.GET_CAPACITY,
                ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
                ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
                ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
                ControllerServiceCapability.RPC.Type.PUBLISH_READONLY,
                ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
                ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
                ControllerServiceCapability.RPC.Type.GET_VOLUME,
                ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
                ControllerServiceCapability.RPC.Type.MODIFY_VOLUME,
                ControllerServiceCapability.RPC.Type.GET_SNAPSHOT));
        nodeCaps.addAll(EnumSet.of(NodeServiceCapability.RPC.Type.STAGE_UNSTAGE_VOLUME,
                NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
                NodeServiceCapability.RPC.Type.EXPAND_VOLUME,
                NodeServiceCapability.RPC.Type.VOLUME_CONDITION,
                NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER));
    }

    boolean has(Defect d) {
        return defects.contains(d);
    }

    /** Serves the fake in-process and returns a target for it with {@code config}'s run settings. */
    CsiTarget target(CsiTarget.Config config) throws IOException {
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name)
                .addService(new FakeIdentityService(this))
                .addService(new FakeControllerService(this))
                .addService(new FakeNodeService(this))
                .build().start();
        servers.add(server);
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        channels.add(ch);
        return CsiTarget.of(config, ch, ch);
    }

    /** Run settings for tests: dirs under {@code runDir}, {@code size}-byte volumes of {@code type}. */
    static CsiTarget.Config config(Path runDir, CsiTarget.AccessType type, long size, Map<String, String> secrets) {
        return new CsiTarget.Config("unix:///fake.sock", Optional.empty(), runDir.resolve("staging"),
                runDir.resolve("target"), Map.of(), secrets, size, type, "ext4", Duration.ofSeconds(30));
    }

    // ---- helpers shared by the services

    /** An error reply; with ERROR_DETAILS it carries a status detail the spec forbids. */
    StatusRuntimeException error(Status.Code code, String message) {
        if (has(Defect.ERROR_DETAILS)) {
            return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder().setCode(code.value())
                    .setMessage(message).addDetails(Any.pack(StringValue.of("fake detail"))).build());
        }
        return code.toStatus().withDescription(message).asRuntimeException();
    }

    /** INVALID_ARGUMENT unless {@code present}, or unless the check for {@code key} is switched off. */
    void require(boolean present, String key, String message) {
        if (!present && !unvalidated.contains(key)) {
            throw error(Status.Code.INVALID_ARGUMENT, message);
        }
    }

    void authorize(Map<String, String> secrets) {
        Map<String, String> need = requiredSecrets;
        if (!need.isEmpty() && !secrets.entrySet().containsAll(need.entrySet())) {
            throw error(Status.Code.UNAUTHENTICATED, "the request does not carry the required secrets");
        }
    }

    /** A per-object operation lock: a second concurrent operation on the same key is ABORTED at once. */
    Held lock(String key) {
        if (!busy.add(key)) {
            throw error(Status.Code.ABORTED, "an operation on " + key + " is already in progress");
        }
        return () -> busy.remove(key);
    }

    /** A held operation lock. */
    interface Held extends AutoCloseable {
        @Override
        void close();
    }

    static String newVolumeId() {
        return "fakevol-" + UUID.randomUUID();
    }

    static String newSnapshotId() {
        return "fakesnap-" + UUID.randomUUID();
    }

    static boolean isVolumeId(String s) {
        return VOLUME_ID.matcher(s).matches();
    }

    static boolean isSnapshotId(String s) {
        return SNAPSHOT_ID.matcher(s).matches();
    }

    static Timestamp now() {
        Instant i = Instant.now();
        return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
    }

    Topology topology() {
        return Topology.newBuilder()
                .putSegments(TOPOLOGY_KEY, NODE_ID).build();
    }

    Int64Value maxSize() {
        return Int64Value.of(MAX_SIZE);
    }

    // ---- data on disk

    /** Where a volume's data lives: a directory (mount; a tmpfs once active) or an image file (block). */
    Path volumeData(Vol v) {
        return v.kind == Kind.BLOCK ? volsDir.resolve(v.id + ".img") : volsDir.resolve(v.id);
    }

    /** Initial content of a mount volume, copied into its tmpfs when it is first activated. */
    Path seed(Vol v) {
        return seedDir.resolve(v.id);
    }

    Path snapshotData(Snap s) {
        return s.kind == Kind.BLOCK ? snapsDir.resolve(s.id + ".img") : snapsDir.resolve(s.id);
    }

    Path scratch(Vol v) {
        return scratchDir.resolve(v.id);
    }

    /** The directory holding a mount volume's current data (its tmpfs when active, else its seed). */
    Path currentContent(Vol v) {
        return v.active ? volumeData(v) : seed(v);
    }

    /** Creates a volume's storage, filled from {@code from} (a snapshot's or volume's data) when given. */
    void createData(Vol v, Optional<Path> from) throws IOException {
        if (v.kind == Kind.BLOCK) {
            Path img = volumeData(v);
            if (from.isPresent() && Files.exists(from.get())) {
                run("cp", "--sparse=always", from.get().toString(), img.toString());
            } else {
                Files.createFile(img);
            }
            try (var f = new java.io.RandomAccessFile(img.toFile(), "rw")) {
                if (f.length() < v.capacity) {
                    f.setLength(v.capacity);
                }
            }
        } else {
            Files.createDirectories(volumeData(v));
            Files.createDirectories(seed(v));
            if (from.isPresent() && Files.isDirectory(from.get())) {
                copyTree(from.get(), seed(v));
            }
        }
    }

    /** Copies a volume's current data to {@code to} (a snapshot, a clone's seed). */
    void copyData(Vol v, Path to) throws IOException {
        if (v.kind == Kind.BLOCK) {
            run("cp", "--sparse=always", volumeData(v).toString(), to.toString());
        } else {
            Files.createDirectories(to);
            copyTree(currentContent(v), to);
        }
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path dest = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(dest);
                } else {
                    Files.copy(p, dest, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }

    /** Mounts the volume's tmpfs (sized like the volume) and fills it from the seed, once. */
    void activate(Vol v) throws IOException {
        if (v.kind != Kind.MOUNT || v.active) {
            return;
        }
        long size = v.fsOverride > 0 ? v.fsOverride : v.capacity;
        Path from = v.lazySource != null ? currentContent(v.lazySource) : seed(v);
        mount("-t", "tmpfs", "-o", "size=" + size, "fake-" + v.id, volumeData(v).toString());
        v.fsSize = size;
        v.active = true;
        copyTree(from, volumeData(v));
    }

    /** Unmounts a mount volume's tmpfs (its data goes with it) before the volume is deleted. */
    void deactivate(Vol v) throws IOException {
        if (v.active) {
            unmountAll(volumeData(v));
            v.active = false;
        }
    }

    String attachLoop(Vol v) throws IOException {
        requireMounts();
        if (v.lazySource != null) {
            run("cp", "--sparse=always", volumeData(v.lazySource).toString(), volumeData(v).toString());
            v.lazySource = null;
            try (var f = new java.io.RandomAccessFile(volumeData(v).toFile(), "rw")) {
                f.setLength(Math.max(f.length(), v.capacity));
            }
        }
        String dev = run("losetup", "--find", "--show", volumeData(v).toString()).trim();
        loops.add(dev);
        return dev;
    }

    void detachLoop(String dev) throws IOException {
        run("losetup", "--detach", dev);
        loops.remove(dev);
    }

    void requireMounts() {
        if (!realMounts) {
            throw error(Status.Code.INTERNAL, "this fake was started without real mounts (unit test)");
        }
    }

    void mount(String... args) throws IOException {
        requireMounts();
        String[] cmd = new String[args.length + 1];
        cmd[0] = "mount";
        System.arraycopy(args, 0, cmd, 1, args.length);
        run(cmd);
    }

    /** Unmounts everything stacked at {@code p}. */
    void unmountAll(Path p) throws IOException {
        for (int i = 0; i < 64 && MountTable.read().isMountPoint(p); i++) {
            run("umount", p.toString());
        }
    }

    static String run(String... cmd) throws IOException {
        Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(proc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!proc.waitFor(60, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                throw new IOException(String.join(" ", cmd) + ": timed out");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(String.join(" ", cmd) + ": interrupted", e);
        }
        if (proc.exitValue() != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + proc.exitValue() + "): " + out.trim());
        }
        return out;
    }

    /** Snapshot of the state maps for listing, in id order. */
    synchronized List<Vol> volumesInOrder() {
        Map<String, Vol> all = new TreeMap<>(volumes);
        if (has(Defect.LIST_SHOWS_DELETED)) {
            all.putAll(ghosts);
        }
        return new ArrayList<>(all.values());
    }

    synchronized List<Snap> snapshotsInOrder() {
        return new ArrayList<>(snapshots.values());
    }

    synchronized Optional<Vol> volume(String id) {
        return Optional.ofNullable(volumes.get(id));
    }

    synchronized Optional<Snap> snapshot(String id) {
        return Optional.ofNullable(snapshots.get(id));
    }

    /** Tears down everything the node side did, then the servers; the data dir is left to the caller's @TempDir. */
    @Override
    public void close() throws IOException {
        channels.forEach(ManagedChannel::shutdownNow);
        servers.forEach(Server::shutdownNow);
        List<String> problems = new ArrayList<>();
        List<Vol> all;
        synchronized (this) {
            all = new ArrayList<>(volumes.values());
            all.addAll(ghosts.values());
        }
        for (Vol v : all) {
            for (Path target : v.published.keySet()) {
                cleanup(problems, () -> unmountAll(target));
            }
            for (Path staging : v.staged.keySet()) {
                cleanup(problems, () -> unmountAll(staging));
            }
            cleanup(problems, () -> deactivate(v));
        }
        if (realMounts) {
            // Anything still mounted under the data dir (a defect stacked mounts, a check died half-way).
            for (MountTable.Entry e : MountTable.read().under(dataDir)) {
                cleanup(problems, () -> unmountAll(e.mountPoint()));
            }
        }
        for (String dev : new ArrayList<>(loops)) {
            cleanup(problems, () -> detachLoop(dev));
        }
        if (!problems.isEmpty()) {
            throw new IOException("fake plugin cleanup: " + String.join("; ", problems));
        }
    }

    private interface IoAction {
        void run() throws IOException;
    }

    private static void cleanup(List<String> problems, IoAction a) {
        try {
            a.run();
        } catch (IOException e) {
            problems.add(e.getMessage());
        }
    }

    /** An ordered copy of {@code m} with {@code k=v} added. */
    static Map<String, String> with(Map<String, String> m, String k, String v) {
        Map<String, String> out = new LinkedHashMap<>(m);
        out.put(k, v);
        return out;
    }
}
