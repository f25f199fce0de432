package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Function;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.fs.AtomicFiles;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.csi.Failpoints;
import dev.nodekit.csi.Failpoints.Point;
import dev.nodekit.csi.rbd.ceph.CephCredentials;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.InvalidIdException;
import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.csi.spi.StorageException;

/**
 * The node side: images attached to this host as block devices, through krbd ({@code rbd map})
 * or rbd-fuse exposing one image as a file ({@code -r IMAGE}, never pool mode) on a loop device.
 * Every attachment has a versioned record under {@code <dataDir>/rbd/attachments/} (see
 * {@link AttachmentRecord}); rbd-fuse daemons run in their own session and outlive the plugin, and
 * {@link #heal} re-adopts them after a restart, restarts dead ones with the cluster's credential
 * file and re-points their loop devices.
 *
 * <p>Secrets: the key reaches {@code rbd-fuse} and {@code rbd map} through a 0600 key file in a
 * 0700 directory that is deleted as soon as the tool has authenticated (rbd-fuse: once the image
 * file appears); never through a command line or an environment value.
 */
final class NodeAttachments implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(NodeAttachments.class);
    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);

    private final Path stateDir;
    private final HostSupport host;
    private final CommandRunner runner;
    private final DaemonLauncher launcher;
    private final Procs procs;
    private final LoopDevices loops;
    private final Mounts mounts;
    private final Duration fuseTimeout;

    NodeAttachments(Path stateDir, HostSupport host, CommandRunner runner, DaemonLauncher launcher, Procs procs,
            LoopDevices loops, Mounts mounts, Duration fuseTimeout) throws IOException {
        this.stateDir = Objects.requireNonNull(stateDir, "stateDir");
        this.host = Objects.requireNonNull(host, "host");
        this.runner = Objects.requireNonNull(runner, "runner");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.procs = Objects.requireNonNull(procs, "procs");
        this.loops = Objects.requireNonNull(loops, "loops");
        this.mounts = Objects.requireNonNull(mounts, "mounts");
        this.fuseTimeout = Objects.requireNonNull(fuseTimeout, "fuseTimeout");
        for (String d : List.of("attachments", "fuse", "keys")) {
            Path p = stateDir.resolve(d);
            Files.createDirectories(p);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
        }
    }

    HostSupport host() {
        return host;
    }

    // ------------------------------------------------------------------ attach

    /** Attaches (or heals the broken attachment of) {@code t} with {@code creds}. */
    Attachment attach(AttachTarget t, CephCredentials creds) throws StorageException {
        Optional<AttachmentRecord> existing = read(t.volume().uuid());
        if (existing.isPresent()) {
            AttachmentRecord r = existing.get();
            if (r.state() == AttachmentRecord.State.ATTACHED && healthy(r)) {
                return attachment(r);
            }
            if (r.state() == AttachmentRecord.State.ATTACHED) {
                return heal(r, creds);
            }
            // an attach or detach that was interrupted: tear it down, then attach afresh
            teardown(r);
            delete(t.volume().uuid());
        }
        Mounter m = t.mounter().or(host::preferred).orElseThrow(() -> new StorageException.FailedPrecondition(
                "this node cannot attach RBD images: krbd: " + host.whyNotKrbd() + "; fuse: " + host.whyNotFuse()));
        if (!host.supports(m)) {
            throw new StorageException.FailedPrecondition("the volume's StorageClass asks for mounter "
                    + m.parameterValue + " but this node cannot use it: " + host.whyNot(m));
        }
        return m == Mounter.KRBD ? attachKrbd(t, creds) : attachFuse(t, creds);
    }

    private Attachment attachFuse(AttachTarget t, CephCredentials creds) throws StorageException {
        UUID uuid = t.volume().uuid();
        Path mnt = stateDir.resolve("fuse").resolve(uuid.toString());
        AttachmentRecord r = new AttachmentRecord(t.volume().encode(), t.clusterId(), t.monitors(), t.pool(), t.image(),
                "fuse", t.readOnly(), AttachmentRecord.State.ATTACHING, null, mnt.toString(), null, null, false);
        write(r);
        Failpoints.hit(Point.RBD_ATTACH_INTENT);
        boolean done = false;
        try {
            r = startDaemon(r, creds);
            Failpoints.hit(Point.RBD_ATTACH_FUSE_STARTED);
            Path device = loops.attach(imageFile(r), t.readOnly());
            Failpoints.hit(Point.RBD_ATTACH_LOOP_ATTACHED);
            r = r.withDevice(device.toString()).with(AttachmentRecord.State.ATTACHED);
            write(r);
            Failpoints.hit(Point.RBD_ATTACH_RECORDED);
            done = true;
            log.atInfo().addKeyValue("volume_id", t.volume()).addKeyValue("device", device)
                    .addKeyValue("pid", r.pid()).addKeyValue("image", t.pool() + "/" + t.image())
                    .log("attached through rbd-fuse and a loop device");
            return attachment(r);
        } catch (CommandException e) {
            throw new StorageException.Internal("attaching volume " + t.volume() + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                AttachmentRecord current = read(uuid).orElse(r);
                teardownQuietly(current);
                deleteQuietly(uuid);
            }
        }
    }

    /** Starts rbd-fuse for the record's image on its mountpoint; returns the record with the pid. */
    private AttachmentRecord startDaemon(AttachmentRecord r, CephCredentials creds) throws StorageException {
        Path mnt = Path.of(r.mountpoint());
        try {
            if (mounts.isMountPoint(mnt)) {
                // A dead daemon's mount: any stat of it fails with ENOTCONN. Detach it lazily (a loop
                // device may still hold it) before touching the directory.
                runner.run(Command.of("fusermount", "-u", "-z", mnt.toString()).withTimeout(TOOL_TIMEOUT));
            }
            Files.createDirectories(mnt);
        } catch (IOException | CommandException e) {
            throw new StorageException.Internal("preparing rbd-fuse mountpoint " + mnt + ": " + e.getMessage(), e);
        }
        Path logFile = stateDir.resolve("fuse").resolve(r.mountpoint().substring(r.mountpoint().lastIndexOf('/') + 1)
                + ".log");
        Path key = null;
        try {
            key = writeKey(creds);
            List<String> argv = List.of(host.rbdFuse().map(Path::toString).orElse("rbd-fuse"), "-c", "/dev/null",
                    "-p", r.pool(), "-r", r.image(), mnt.toString(), "-f");
            Map<String, String> env = Map.of("CEPH_ARGS", "--id " + creds.userId() + " --keyfile " + key
                    + " -m " + r.monitors() + " --admin-socket= --log-file=/dev/null --no-mon-config");
            long pid = launcher.start(argv, env, logFile);
            long startTime = awaitStartTime(pid);
            AttachmentRecord withPid = r.withDaemon(pid, startTime);
            write(withPid);
            awaitImageFile(withPid, logFile);
            return withPid;
        } catch (IOException e) {
            throw new StorageException.Internal("starting rbd-fuse for " + r.pool() + "/" + r.image() + ": "
                    + e.getMessage(), e);
        } finally {
            deleteKey(key);
        }
    }

    private long awaitStartTime(long pid) throws IOException {
        for (int i = 0; i < 100; i++) {
            Optional<Long> t = procs.startTime(pid);
            if (t.isPresent()) {
                return t.get();
            }
            sleep(10);
        }
        throw new IOException("rbd-fuse (pid " + pid + ") exited at once");
    }

    private void awaitImageFile(AttachmentRecord r, Path logFile) throws StorageException, IOException {
        Path file = imageFile(r);
        long deadline = System.nanoTime() + fuseTimeout.toNanos();
        while (!Files.exists(file)) {
            if (!procs.isSame(r.pid(), r.pidStartTime())) {
                String tail = tail(logFile);
                String lower = tail.toLowerCase(java.util.Locale.ROOT);
                if (lower.contains("permission denied") || lower.contains("(13)") || lower.contains("(1) operation")) {
                    throw new StorageException.PermissionDenied("rbd-fuse for " + r.pool() + "/" + r.image()
                            + " was refused by the cluster: " + tail, null);
                }
                throw new StorageException.Internal("rbd-fuse for " + r.pool() + "/" + r.image() + " exited: " + tail,
                        null);
            }
            if (System.nanoTime() > deadline) {
                throw new StorageException.Unavailable("rbd-fuse for " + r.pool() + "/" + r.image()
                        + " did not expose the image within " + fuseTimeout.toSeconds() + " s: " + tail(logFile), null);
            }
            sleep(20);
        }
    }

    private Attachment attachKrbd(AttachTarget t, CephCredentials creds) throws StorageException {
        UUID uuid = t.volume().uuid();
        AttachmentRecord r = new AttachmentRecord(t.volume().encode(), t.clusterId(), t.monitors(), t.pool(), t.image(),
                "krbd", t.readOnly(), AttachmentRecord.State.ATTACHING, null, null, null, null, false);
        write(r);
        Failpoints.hit(Point.RBD_ATTACH_INTENT);
        Path key = null;
        boolean done = false;
        try {
            key = writeKey(creds);
            Path device = Krbd.map(runner, t.monitors(), creds.userId(), key, t.pool(), t.image(), t.readOnly());
            Failpoints.hit(Point.RBD_ATTACH_LOOP_ATTACHED);
            r = r.withDevice(device.toString()).with(AttachmentRecord.State.ATTACHED);
            write(r);
            Failpoints.hit(Point.RBD_ATTACH_RECORDED);
            done = true;
            log.atInfo().addKeyValue("volume_id", t.volume()).addKeyValue("device", device).log("mapped with krbd");
            return attachment(r);
        } catch (IOException | CommandException e) {
            throw new StorageException.Internal("rbd map of " + t.pool() + "/" + t.image() + ": " + e.getMessage(), e);
        } finally {
            deleteKey(key);
            if (!done) {
                teardownQuietly(read(uuid).orElse(r));
                deleteQuietly(uuid);
            }
        }
    }

    // ------------------------------------------------------------------ find, refresh, list

    Optional<Attachment> find(ObjectId id) throws StorageException {
        Optional<AttachmentRecord> r = read(id.uuid());
        if (r.isEmpty() || r.get().state() != AttachmentRecord.State.ATTACHED || !healthy(r.get())) {
            return Optional.empty();
        }
        return Optional.of(attachment(r.get()));
    }

    List<Attachment> all() throws StorageException {
        List<Attachment> out = new ArrayList<>();
        for (AttachmentRecord r : records()) {
            if (r.state() == AttachmentRecord.State.ATTACHED) {
                out.add(attachment(r));
            }
        }
        return out;
    }

    Attachment refresh(ObjectId id) throws StorageException {
        AttachmentRecord r = read(id.uuid()).filter(x -> x.state() == AttachmentRecord.State.ATTACHED)
                .orElseThrow(() -> new StorageException.NotFound("volume " + id + " is not attached on this node"));
        if (r.mounter().equals("krbd")) {
            return attachment(r); // krbd follows the image size by itself
        }
        Path device = Path.of(r.device());
        try {
            // rbd-fuse learns the new size through librbd's header watch; give it a moment
            long deadline = System.nanoTime() + Duration.ofSeconds(3).toNanos();
            long deviceBytes = loops.size(device);
            while (Files.size(imageFile(r)) <= deviceBytes && System.nanoTime() < deadline) {
                sleep(50);
            }
            loops.refresh(device);
        } catch (IOException | CommandException e) {
            throw new StorageException.Internal("refreshing the size of " + device + ": " + e.getMessage(), e);
        }
        return attachment(r);
    }

    // ------------------------------------------------------------------ detach

    void detach(ObjectId id) throws StorageException {
        Optional<AttachmentRecord> found = read(id.uuid());
        if (found.isEmpty()) {
            return;
        }
        AttachmentRecord r = found.get();
        if (r.state() == AttachmentRecord.State.ATTACHED && r.device() != null && inUse(Path.of(r.device()))) {
            throw new StorageException.FailedPrecondition("volume " + id + " is in use on this node: " + r.device()
                    + " is mounted or held; unmount it first");
        }
        r = r.with(AttachmentRecord.State.DETACHING);
        write(r);
        Failpoints.hit(Point.RBD_DETACH_INTENT);
        teardown(r);
        delete(id.uuid());
        Failpoints.hit(Point.RBD_DETACH_DONE);
        log.atInfo().addKeyValue("volume_id", id).addKeyValue("device", r.device()).log("detached");
    }

    /** Tears down whatever a record may have set up, in order: loop device (or krbd), rbd-fuse, mountpoint. */
    private void teardown(AttachmentRecord r) throws StorageException {
        try {
            if (r.mounter().equals("krbd")) {
                if (r.device() != null) {
                    Krbd.unmap(runner, Path.of(r.device()));
                }
                Failpoints.hit(Point.RBD_DETACH_LOOP_DETACHED);
                return;
            }
            Path mnt = Path.of(r.mountpoint());
            for (Path dev : loops.devicesUnder(mnt)) {
                loops.detach(dev);
            }
            Failpoints.hit(Point.RBD_DETACH_LOOP_DETACHED);
            stopDaemon(r);
            Failpoints.hit(Point.RBD_DETACH_FUSE_STOPPED);
            Files.deleteIfExists(mnt);
            Files.deleteIfExists(stateDir.resolve("fuse").resolve(mnt.getFileName() + ".log"));
        } catch (IOException | CommandException e) {
            throw new StorageException.Internal("detaching " + r.pool() + "/" + r.image() + ": " + e.getMessage(), e);
        }
    }

    /** fusermount -u, then wait for the daemon; TERM, then KILL, if it lingers. */
    private void stopDaemon(AttachmentRecord r) throws IOException, CommandException {
        Path mnt = Path.of(r.mountpoint());
        if (mounts.isMountPoint(mnt)) {
            CommandResult u = runner.run(Command.of("fusermount", "-u", mnt.toString()).withTimeout(TOOL_TIMEOUT));
            if (!u.succeeded()) {
                runner.run(Command.of("fusermount", "-u", "-z", mnt.toString()).withTimeout(TOOL_TIMEOUT));
            }
        }
        if (r.pid() == null) {
            return;
        }
        try {
            if (!procs.awaitExit(r.pid(), r.pidStartTime(), 10_000)) {
                procs.signal(r.pid(), false);
                if (!procs.awaitExit(r.pid(), r.pidStartTime(), 5_000)) {
                    procs.signal(r.pid(), true);
                    procs.awaitExit(r.pid(), r.pidStartTime(), 5_000);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for rbd-fuse " + r.pid() + " to exit", e);
        }
    }

    private void teardownQuietly(AttachmentRecord r) {
        try {
            teardown(r);
        } catch (StorageException | RuntimeException e) {
            log.atWarn().addKeyValue("volume_id", r.volumeId()).addKeyValue("error", e.getMessage())
                    .log("could not undo a failed attach");
        }
    }

    /** True when the device is mounted somewhere or something stacks on it. */
    private boolean inUse(Path device) throws StorageException {
        try {
            if (!Files.exists(device)) {
                return false;
            }
            String name = device.getFileName().toString();
            Path devFile = Path.of("/sys/class/block", name, "dev");
            String majorMinor = Files.exists(devFile) ? Files.readString(devFile, StandardCharsets.US_ASCII).strip() : "";
            for (MountInfo m : mounts.list()) {
                if (m.majorMinor().equals(majorMinor) || m.source().equals(device.toString())) {
                    return true;
                }
            }
            return device.toString().startsWith("/dev/loop") && loops.hasHolders(device);
        } catch (IOException e) {
            throw new StorageException.Internal("checking whether " + device + " is in use: " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ health and healing

    /** True when the attachment works: its daemon is the one recorded and its loop device reads its file. */
    private boolean healthy(AttachmentRecord r) throws StorageException {
        if (r.device() == null) {
            return false;
        }
        if (r.mounter().equals("krbd")) {
            return Files.exists(Path.of(r.device()));
        }
        if (r.stale() || r.pid() == null || !procs.isSame(r.pid(), r.pidStartTime())) {
            return false;
        }
        try {
            return loops.backingFile(Path.of(r.device())).map(imageFile(r)::equals).orElse(false);
        } catch (IOException e) {
            throw new StorageException.Internal("reading loop device state: " + e.getMessage(), e);
        }
    }

    /**
     * After a restart: re-adopts healthy attachments, finishes interrupted attaches and detaches, and
     * heals broken fuse attachments with the cluster's credential file (skipped, with a log line,
     * where there is none). Returns how many were healed. Never throws: one broken volume must not
     * keep the node plugin from serving the others.
     */
    int heal(Function<String, Optional<CephCredentials>> credentialFile) {
        int healed = 0;
        List<AttachmentRecord> all;
        try {
            all = records();
        } catch (StorageException e) {
            log.atError().addKeyValue("error", e.getMessage()).log("cannot read the node state; nothing healed");
            return 0;
        }
        for (AttachmentRecord r : all) {
            try {
                if (r.state() != AttachmentRecord.State.ATTACHED) {
                    teardown(r);
                    delete(UUID.fromString(r.volumeId().substring(r.volumeId().length() - 36)));
                    log.atInfo().addKeyValue("volume_id", r.volumeId()).addKeyValue("state", r.state())
                            .log("finished an attach or detach interrupted by a restart (torn down)");
                    continue;
                }
                if (healthy(r)) {
                    log.atInfo().addKeyValue("volume_id", r.volumeId()).addKeyValue("device", r.device())
                            .addKeyValue("pid", r.pid()).log("re-adopted a running attachment");
                    continue;
                }
                Optional<CephCredentials> creds = credentialFile.apply(r.clusterId());
                if (creds.isEmpty()) {
                    log.atWarn().addKeyValue("volume_id", r.volumeId()).addKeyValue("cluster_id", r.clusterId())
                            .log("node healing skipped: the attachment is broken and cluster has no credentialFile in "
                                    + "--ceph-config; it is healed at the next NodeStageVolume (which carries secrets)");
                    continue;
                }
                heal(r, creds.get());
                healed++;
            } catch (StorageException | RuntimeException e) {
                log.atError().addKeyValue("volume_id", r.volumeId()).addKeyValue("error", e.getMessage())
                        .log("cannot heal attachment");
            }
        }
        return healed;
    }

    /** Heals one ATTACHED record whose pieces are broken. */
    private Attachment heal(AttachmentRecord r, CephCredentials creds) throws StorageException {
        ObjectId id = parse(r.volumeId());
        if (r.mounter().equals("krbd")) {
            // the kernel lost the mapping (a reboot): map again
            delete(id.uuid());
            return attachKrbd(new AttachTarget(id, r.clusterId(), r.monitors(), r.pool(), r.image(),
                    Optional.of(Mounter.KRBD), r.readOnly()), creds);
        }
        AttachmentRecord current = r;
        if (current.pid() == null || !procs.isSame(current.pid(), current.pidStartTime())) {
            current = startDaemon(current.withStale(false), creds);
            log.atWarn().addKeyValue("volume_id", r.volumeId()).addKeyValue("old_pid", r.pid())
                    .addKeyValue("pid", current.pid()).log("restarted a dead rbd-fuse daemon");
        }
        Path file = imageFile(current);
        try {
            Path device = current.device() == null ? null : Path.of(current.device());
            boolean bound = device != null && loops.backingFile(device).isPresent();
            if (device == null || !bound) {
                device = loops.attach(file, current.readOnly());
            } else if (!inUse(device)) {
                loops.detach(device);
                try {
                    loops.attachAt(device, file, current.readOnly());
                } catch (CommandException e) {
                    device = loops.attach(file, current.readOnly()); // someone took the number meanwhile
                }
            } else if (current.readOnly()) {
                LoopChangeFd.changeFd(device, file);
            } else {
                current = current.withStale(true);
                write(current);
                log.atError().addKeyValue("volume_id", r.volumeId()).addKeyValue("device", device)
                        .log("rbd-fuse was restarted, but the writable loop device is mounted and the kernel cannot "
                                + "re-point it (LOOP_CHANGE_FD is read-only only): unstage and stage the volume again");
                throw new StorageException.FailedPrecondition("volume " + id + ": its loop device " + device
                        + " is mounted and still reads through a dead rbd-fuse; unstage and stage it again");
            }
            current = current.withDevice(device.toString()).withStale(false);
            write(current);
            log.atWarn().addKeyValue("volume_id", r.volumeId()).addKeyValue("device", device)
                    .log("healed an attachment (loop device re-pointed at the new rbd-fuse)");
            return attachment(current);
        } catch (IOException | CommandException e) {
            throw new StorageException.Internal("healing volume " + id + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------ records

    private Path recordFile(UUID uuid) {
        return stateDir.resolve("attachments").resolve(uuid + ".json");
    }

    private Optional<AttachmentRecord> read(UUID uuid) throws StorageException {
        try {
            return Optional.of(AttachmentRecord.FORMAT.read(recordFile(uuid), AttachmentRecord.class));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new StorageException.Internal("reading node state " + recordFile(uuid) + ": " + e.getMessage(), e);
        }
    }

    private List<AttachmentRecord> records() throws StorageException {
        List<AttachmentRecord> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(stateDir.resolve("attachments"), "*.json")) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                try {
                    read(UUID.fromString(n.substring(0, n.length() - 5))).ifPresent(out::add);
                } catch (IllegalArgumentException e) {
                    log.atWarn().addKeyValue("file", p).log("ignoring a file that is not a node-state record");
                }
            }
        } catch (IOException e) {
            throw new StorageException.Internal("listing node state: " + e.getMessage(), e);
        }
        return out;
    }

    private void write(AttachmentRecord r) throws StorageException {
        try {
            AttachmentRecord.FORMAT.write(recordFile(parse(r.volumeId()).uuid()), r, AtomicFiles.OWNER_ONLY);
        } catch (IOException e) {
            throw new StorageException.Internal("writing node state for " + r.volumeId() + ": " + e.getMessage(), e);
        }
    }

    private void delete(UUID uuid) throws StorageException {
        try {
            Files.deleteIfExists(recordFile(uuid));
            AtomicFiles.fsyncDirectory(recordFile(uuid).getParent());
        } catch (IOException e) {
            throw new StorageException.Internal("removing node state of " + uuid + ": " + e.getMessage(), e);
        }
    }

    private void deleteQuietly(UUID uuid) {
        try {
            delete(uuid);
        } catch (StorageException e) {
            log.atWarn().addKeyValue("uuid", uuid).addKeyValue("error", e.getMessage()).log("could not remove node state");
        }
    }

    private Attachment attachment(AttachmentRecord r) {
        return new Attachment(parse(r.volumeId()), Path.of(r.device()), r.readOnly(), r.attachmentState());
    }

    private static Path imageFile(AttachmentRecord r) {
        return Path.of(r.mountpoint()).resolve(r.image());
    }

    private static ObjectId parse(String id) {
        try {
            return ObjectId.parse(id, ObjectId.Kind.VOLUME);
        } catch (InvalidIdException e) {
            throw new IllegalStateException("node state holds a malformed volume id", e);
        }
    }

    private Path writeKey(CephCredentials creds) throws IOException {
        Path key = Files.createTempFile(stateDir.resolve("keys"), "key-", "",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, creds.key() + "\n", StandardCharsets.US_ASCII);
        return key;
    }

    private static void deleteKey(Path key) {
        if (key != null) {
            try {
                Files.deleteIfExists(key);
            } catch (IOException e) {
                log.atError().addKeyValue("file", key).log("could not delete a temporary key file");
            }
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        // Attachments outlive the process on purpose; nothing to release.
    }
}
