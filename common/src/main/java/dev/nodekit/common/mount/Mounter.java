package dev.nodekit.common.mount;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.mount.Mounts.FilesystemLocation;

/**
 * Mounts and unmounts through {@code mount(8)} and {@code umount(8)}, idempotently: each operation
 * first looks at mountinfo and returns early when the wanted state is already there, so a retried
 * CSI call is safe. Every method returns true when it changed something and false when it found
 * the work done.
 *
 * <p>Targets must exist (a directory, or a file for a bind mount of a file); creating them is the
 * caller's step. Paths must be absolute. Every option list is passed after {@code -o} and paths
 * after {@code --}, so a value starting with '-' is never read as an option.
 */
public final class Mounter {
    private static final Logger log = LoggerFactory.getLogger(Mounter.class);

    /** Timeout of each mount/umount command: generous for a network filesystem, still finite. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(2);

    private static final Pattern FS_TYPE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._+-]*");

    private final CommandRunner runner;
    private final Mounts mounts;
    private final Duration timeout;

    /** A mounter with {@link #DEFAULT_TIMEOUT} per command. */
    public Mounter(CommandRunner runner, Mounts mounts) {
        this(runner, mounts, DEFAULT_TIMEOUT);
    }

    /** A mounter running commands with {@code runner}, checking state with {@code mounts}. */
    public Mounter(CommandRunner runner, Mounts mounts, Duration timeout) {
        this.runner = Objects.requireNonNull(runner, "runner");
        this.mounts = Objects.requireNonNull(mounts, "mounts");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
    }

    /**
     * Bind-mounts {@code source} (a directory or a file) on {@code target}. No-op when {@code target}
     * already shows the same content (same device and in-filesystem path as {@code source}).
     *
     * @throws MountException with {@link MountException#isConflict()} when something else, or the same
     *         source read-only, is mounted there; otherwise when {@code mount} failed
     */
    public boolean bindMount(Path source, Path target) throws MountException {
        return bind(source, target, false);
    }

    /**
     * Bind-mounts {@code source} on {@code target} read-only: {@code mount --bind}, then
     * {@code mount -o remount,bind,ro} (the kernel ignores {@code ro} on the first call). If the
     * remount fails the bind is undone. If the same source is already bound read-write (a previous
     * call died between the two steps) only the remount is done.
     */
    public boolean bindMountReadOnly(Path source, Path target) throws MountException {
        return bind(source, target, true);
    }

    private boolean bind(Path source, Path target, boolean readOnly) throws MountException {
        requireAbsolute(source, "source");
        requireAbsolute(target, "target");
        if (!Files.exists(source)) {
            throw new MountException(target, "bind source " + source + " does not exist", false, null);
        }
        FilesystemLocation want = read(target, () -> mounts.locate(source)).orElseThrow(
                () -> new MountException(target, "bind source " + source + " is on no mount in mountinfo", false, null));
        Optional<MountInfo> existing = read(target, () -> mounts.findByMountPoint(target));
        if (existing.isPresent()) {
            MountInfo m = existing.get();
            if (!FilesystemLocation.of(m).equals(want)) {
                throw conflict(target, describe(m) + "; wanted a bind of " + source + " (" + want + ")");
            }
            if (m.readOnly() == readOnly) {
                log.atDebug().addKeyValue("source", source).addKeyValue("target", target)
                        .log("bind mount already in place");
                return false;
            }
            if (!readOnly) {
                throw conflict(target, "it is bound read-only from " + source + "; wanted read-write");
            }
            remountReadOnly(m.mountPoint());
            return true;
        }
        run(target, "bind mount of " + source, "mount", "--bind", "--", source.toString(), target.toString());
        if (readOnly) {
            try {
                Path point = read(target, () -> mounts.findByMountPoint(target)).map(MountInfo::mountPoint)
                        .orElse(target);
                remountReadOnly(point);
            } catch (MountException e) {
                undoBind(target, e);
                throw e;
            }
        }
        log.atInfo().addKeyValue("source", source).addKeyValue("target", target).addKeyValue("read_only", readOnly)
                .log("bind mounted");
        return true;
    }

    private void remountReadOnly(Path point) throws MountException {
        run(point, "read-only remount", "mount", "-o", "remount,bind,ro", "--", point.toString());
    }

    private void undoBind(Path target, MountException cause) {
        try {
            unmount(target, false);
        } catch (MountException | RuntimeException undo) {
            cause.addSuppressed(undo);
            log.atWarn().addKeyValue("target", target).setCause(undo)
                    .log("could not undo bind mount after failed read-only remount");
        }
    }

    /**
     * Mounts {@code source} (a device, or what the filesystem takes: {@code tmpfs}, {@code server:/path})
     * of type {@code fsType} on {@code target} with {@code options}. No-op when {@code target} already
     * has {@code source} (or the device a symlink such as {@code /dev/disk/by-uuid/...} points to)
     * mounted; other options are not compared, except that {@code ro} asked on a read-write mount is
     * a conflict.
     */
    public boolean mount(String source, Path target, String fsType, List<String> options) throws MountException {
        Objects.requireNonNull(source, "source");
        requireAbsolute(target, "target");
        if (source.isEmpty() || source.startsWith("-") || source.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("invalid mount source '" + source + "'");
        }
        if (!FS_TYPE.matcher(fsType).matches()) {
            throw new IllegalArgumentException("invalid filesystem type '" + fsType + "'");
        }
        for (String o : options) {
            if (o.isEmpty() || o.indexOf(',') >= 0 || o.chars().anyMatch(c -> c <= ' ')) {
                throw new IllegalArgumentException("invalid mount option '" + o + "' (one option per element)");
            }
        }
        Optional<MountInfo> existing = read(target, () -> mounts.findByMountPoint(target));
        if (existing.isPresent()) {
            MountInfo m = existing.get();
            if (!sameSource(m.source(), source)) {
                throw conflict(target, describe(m) + "; wanted " + source);
            }
            if (options.contains("ro") && !m.readOnly()) {
                throw conflict(target, source + " is mounted read-write; wanted read-only");
            }
            return false;
        }
        List<String> argv = new ArrayList<>(List.of("mount", "-t", fsType));
        if (!options.isEmpty()) {
            argv.add("-o");
            argv.add(String.join(",", options));
        }
        argv.addAll(List.of("--", source, target.toString()));
        run(target, "mount of " + source, argv.toArray(String[]::new));
        log.atInfo().addKeyValue("source", source).addKeyValue("target", target).addKeyValue("fs_type", fsType)
                .log("mounted");
        return true;
    }

    /**
     * Unmounts the top mount at {@code target}. No-op when nothing is mounted there, including when
     * {@code target} does not exist. One call removes one layer of stacked mounts.
     */
    public boolean unmount(Path target) throws MountException {
        return unmount(target, false);
    }

    /**
     * Detaches the top mount at {@code target} now and lets the kernel finish the unmount when it is
     * no longer busy ({@code umount -l}). For cleanup paths that must not fail on a busy mount; the
     * filesystem may still be in use when this returns.
     */
    public boolean unmountLazily(Path target) throws MountException {
        return unmount(target, true);
    }

    private boolean unmount(Path target, boolean lazy) throws MountException {
        requireAbsolute(target, "target");
        Optional<MountInfo> existing = read(target, () -> mounts.findByMountPoint(target));
        if (existing.isEmpty()) {
            log.atDebug().addKeyValue("target", target).log("not mounted; nothing to unmount");
            return false;
        }
        Path point = existing.get().mountPoint();
        List<String> argv = lazy ? List.of("umount", "-l", "--", point.toString())
                : List.of("umount", "--", point.toString());
        CommandResult r = exec(target, argv);
        if (!r.succeeded()) {
            Optional<MountInfo> now = read(target, () -> mounts.findByMountPoint(target));
            if (now.isPresent() && now.get().mountId() == existing.get().mountId()) {
                check(target, "unmount", r);
            }
            log.atDebug().addKeyValue("target", target).log("umount failed but the mount is gone (concurrent unmount)");
        }
        log.atInfo().addKeyValue("target", point).addKeyValue("lazy", lazy).log("unmounted");
        return true;
    }

    private void run(Path target, String what, String... argv) throws MountException {
        check(target, what, exec(target, List.of(argv)));
    }

    private CommandResult exec(Path target, List<String> argv) throws MountException {
        try {
            return runner.run(Command.of(argv).withTimeout(timeout));
        } catch (CommandException e) {
            throw new MountException(target, e.getMessage(), false, e);
        }
    }

    private static void check(Path target, String what, CommandResult r) throws MountException {
        try {
            r.checkSuccess();
        } catch (CommandException e) {
            throw new MountException(target, what + " on " + target + " failed: " + e.getMessage(), false, e);
        }
    }

    private boolean sameSource(String mounted, String wanted) {
        if (mounted.equals(wanted)) {
            return true;
        }
        if (wanted.startsWith("/") && Files.exists(Path.of(wanted), LinkOption.NOFOLLOW_LINKS)) {
            return Mounts.resolve(Path.of(wanted)).toString().equals(mounted);
        }
        return false;
    }

    private static String describe(MountInfo m) {
        return m.mountPoint() + " already has " + m.source() + " (" + m.fsType() + " " + m.majorMinor() + ":"
                + m.root() + (m.readOnly() ? ", ro" : "") + ") mounted";
    }

    private static MountException conflict(Path target, String message) {
        return new MountException(target, message, true, null);
    }

    private static void requireAbsolute(Path p, String what) {
        Objects.requireNonNull(p, what);
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException(what + " must be an absolute path, got '" + p + "'");
        }
    }

    @FunctionalInterface
    private interface Read<T> {
        T get() throws IOException;
    }

    private static <T> T read(Path target, Read<T> r) throws MountException {
        try {
            return r.get();
        } catch (IOException e) {
            throw new MountException(target, "cannot read the mount table: " + e.getMessage(), false, e);
        }
    }
}
