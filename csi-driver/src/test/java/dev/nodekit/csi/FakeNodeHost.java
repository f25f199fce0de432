package dev.nodekit.csi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.mount.MountInfo;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.common.testing.FakeMountTable;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.csi.spi.Attachment;
import dev.nodekit.csi.spi.ObjectId;

/**
 * The host the node service runs on, in memory: a {@link FakeMountTable} answers mount/umount, and
 * this class answers the filesystem tools (blkid, mkfs, dumpe2fs, e2fsck, resize2fs, xfs_growfs,
 * stat -f, blockdev) from a table of filesystems per fake device, with device sizes from the
 * {@link FakeBackend}. Online ext4 growth fails as it does without CAP_SYS_RESOURCE unless
 * {@link #allowOnlineExt4(boolean)} says otherwise.
 */
final class FakeNodeHost {
    static final long BLOCK = 4096;

    private final FakeBackend backend;
    private final FakeMountTable table;
    /** Filesystems live in images, not in the device they happen to be attached as. */
    private final Map<ObjectId, Fs> filesystems = new HashMap<>();
    private volatile boolean onlineExt4;

    /** A filesystem on a device: its type and size. */
    record Fs(String type, long bytes, boolean partitionTableOnly) {
    }

    FakeNodeHost(FakeBackend backend, FakeMountTable table, RecordingCommandRunner runner) {
        this.backend = backend;
        this.table = table;
        table.scriptOn(runner);
        runner.onPrefix("blkid").thenAnswer(this::blkid);
        runner.onPrefix("mkfs.ext4").thenAnswer(c -> mkfs(c, "ext4"));
        runner.onPrefix("mkfs.xfs").thenAnswer(c -> mkfs(c, "xfs"));
        runner.onPrefix("dumpe2fs").thenAnswer(this::dumpe2fs);
        runner.onPrefix("e2fsck").thenAnswer(FakeNodeHost::ok);
        runner.onPrefix("resize2fs").thenAnswer(this::resize2fs);
        runner.onPrefix("xfs_growfs").thenAnswer(this::xfsGrowfs);
        runner.onPrefix("stat", "-f").thenAnswer(this::statfs);
        runner.onPrefix("blockdev", "--getsize64").thenAnswer(this::blockdev);
    }

    void allowOnlineExt4(boolean allow) {
        onlineExt4 = allow;
    }

    synchronized Optional<Fs> filesystem(Path device) {
        return Optional.ofNullable(filesystems.get(image(device)));
    }

    synchronized void putFilesystem(Path device, Fs fs) {
        filesystems.put(image(device), fs);
    }

    private ObjectId image(Path device) {
        for (Attachment a : backend.attachmentMap().values()) {
            if (a.device().equals(device)) {
                return a.image();
            }
        }
        throw new IllegalArgumentException("no image is attached as " + device);
    }

    private synchronized CommandResult blkid(Command c) {
        Path dev = last(c);
        Fs fs = filesystems.get(image(dev));
        if (fs == null) {
            return result(c, 2, "", "");
        }
        if (fs.partitionTableOnly()) {
            return result(c, 0, "DEVNAME=" + dev + "\nPTTYPE=gpt\n", "");
        }
        return result(c, 0, "DEVNAME=" + dev + "\nUUID=1234\nTYPE=" + fs.type() + "\n", "");
    }

    private synchronized CommandResult mkfs(Command c, String type) {
        Path dev = last(c);
        filesystems.put(image(dev), new Fs(type, backend.deviceSize(dev), false));
        return ok(c);
    }

    private synchronized CommandResult dumpe2fs(Command c) {
        Fs fs = filesystems.get(image(last(c)));
        if (fs == null || !fs.type().equals("ext4")) {
            return result(c, 1, "", "dumpe2fs: Bad magic number in super-block");
        }
        return result(c, 0, "Filesystem volume name:   <none>\nBlock count:              " + fs.bytes() / BLOCK
                + "\nBlock size:               " + BLOCK + "\n", "");
    }

    private synchronized CommandResult resize2fs(Command c) {
        Path dev = last(c);
        Fs fs = filesystems.get(image(dev));
        if (fs == null) {
            return result(c, 1, "", "resize2fs: Bad magic number in super-block");
        }
        if (mounted(dev) && !onlineExt4) {
            return result(c, 1, "", "resize2fs 1.47.0 (5-Feb-2023)\nFilesystem at " + dev
                    + " is mounted; on-line resizing required\n/usr/sbin/resize2fs: Permission denied to resize filesystem");
        }
        filesystems.put(image(dev), new Fs(fs.type(), backend.deviceSize(dev), false));
        return ok(c);
    }

    private synchronized CommandResult xfsGrowfs(Command c) {
        Path mp = last(c);
        MountInfo m = find(mp).orElse(null);
        if (m == null) {
            return result(c, 1, "", "xfs_growfs: " + mp + " is not a mounted XFS filesystem");
        }
        Path dev = Path.of(m.source());
        filesystems.put(image(dev), new Fs("xfs", backend.deviceSize(dev), false));
        return ok(c);
    }

    private synchronized CommandResult statfs(Command c) {
        Path p = last(c);
        MountInfo m;
        try {
            m = table.mounts().findContaining(p).orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Fs fs = filesystems.get(image(Path.of(m.source())));
        long bytes = fs == null ? 0 : fs.bytes();
        long blocks = bytes / BLOCK;
        return result(c, 0, BLOCK + " " + blocks + " " + (blocks - 10) + " " + (blocks - 12) + " 65536 65000\n", "");
    }

    private synchronized CommandResult blockdev(Command c) {
        Path p = last(c);
        if (backend.isDevice(p)) {
            return result(c, 0, backend.deviceSize(p) + "\n", "");
        }
        try {
            Mounts mounts = table.mounts();
            Optional<MountInfo> m = mounts.findByMountPoint(p);
            if (m.isPresent()) {
                for (Path dev : backend.attachmentMap().values().stream().map(a -> a.device()).toList()) {
                    if (mounts.locate(dev).map(l -> l.equals(Mounts.FilesystemLocation.of(m.get()))).orElse(false)) {
                        return result(c, 0, backend.deviceSize(dev) + "\n", "");
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return result(c, 1, "", "blockdev: cannot open " + p + ": No such device or address");
    }

    private boolean mounted(Path dev) {
        return table.entries().stream().anyMatch(m -> m.source().equals(dev.toString()));
    }

    private Optional<MountInfo> find(Path mp) {
        try {
            return table.mounts().findByMountPoint(mp);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path last(Command c) {
        List<String> a = c.argv();
        return Path.of(a.get(a.size() - 1));
    }

    private static CommandResult ok(Command c) {
        return result(c, 0, "", "");
    }

    private static CommandResult result(Command c, int code, String out, String err) {
        return new CommandResult(c.argv(), code, out, err, Duration.ofMillis(1));
    }
}
