package dev.nodekit.csi;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandException;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.exec.CommandRunner;

/**
 * The filesystem tools the node service runs (blkid, mkfs, dumpe2fs, e2fsck, resize2fs,
 * xfs_growfs, stat, blockdev), through an injected {@link CommandRunner}; argv only, paths after
 * {@code --} wherever the tool reads options with getopt.
 */
final class Filesystems {
    /** mkfs of a large volume, fsck and resize can take minutes; bounded all the same. */
    static final Duration LONG = Duration.ofMinutes(10);
    static final Duration SHORT = Duration.ofSeconds(30);

    private final CommandRunner runner;

    Filesystems(CommandRunner runner) {
        this.runner = Objects.requireNonNull(runner, "runner");
    }

    /** What {@code blkid} finds on a device. */
    record Probe(Optional<String> fsType, Optional<String> partitionTable) {
        boolean empty() {
            return fsType.isEmpty() && partitionTable.isEmpty();
        }
    }

    /**
     * Low-level probe ({@code blkid -p}: reads the device itself, not the udev cache). Exit 2
     * means nothing was found: the one case in which a device may be formatted.
     */
    Probe probe(Path device) throws CommandException {
        CommandResult r = runner.run(Command.of("blkid", "-p", "-o", "export", "--", device.toString())
                .withTimeout(SHORT)).checkExit(0, 2);
        if (r.exitCode() == 2) {
            return new Probe(Optional.empty(), Optional.empty());
        }
        Optional<String> type = Optional.empty();
        Optional<String> pt = Optional.empty();
        for (String line : r.stdoutLines()) {
            if (line.startsWith("TYPE=")) {
                type = Optional.of(line.substring(5));
            } else if (line.startsWith("PTTYPE=")) {
                pt = Optional.of(line.substring(7));
            }
        }
        return new Probe(type, pt);
    }

    /**
     * Makes a filesystem. Discards are skipped ({@code nodiscard}/{@code -K}): on a fresh sparse
     * image there is nothing to discard, and discarding a large device is slow.
     */
    void format(Path device, String fsType) throws CommandException {
        List<String> argv = switch (fsType) {
            case "ext4" -> List.of("mkfs.ext4", "-q", "-F", "-m", "0", "-E",
                    "nodiscard,lazy_itable_init=1,lazy_journal_init=1", "--", device.toString());
            case "xfs" -> List.of("mkfs.xfs", "-q", "-K", "--", device.toString());
            default -> throw new IllegalArgumentException("cannot format " + fsType);
        };
        runner.run(Command.of(argv).withTimeout(LONG)).checkSuccess();
    }

    /** Size in bytes of an ext4 filesystem on {@code device}, from its superblock. */
    Ext4Size ext4Size(Path device) throws CommandException {
        CommandResult r = runner.run(Command.of("dumpe2fs", "-h", "--", device.toString()).withTimeout(SHORT))
                .checkSuccess();
        long blocks = -1;
        long blockSize = -1;
        for (String line : r.stdoutLines()) {
            if (line.startsWith("Block count:")) {
                blocks = Long.parseLong(line.substring(12).trim());
            } else if (line.startsWith("Block size:")) {
                blockSize = Long.parseLong(line.substring(11).trim());
            }
        }
        if (blocks < 0 || blockSize <= 0) {
            throw new CommandException(r.argv(), "dumpe2fs printed no block count or block size for " + device, null);
        }
        return new Ext4Size(blocks, blockSize);
    }

    /** An ext4 filesystem's size. */
    record Ext4Size(long blocks, long blockSize) {
        long bytes() {
            return blocks * blockSize;
        }

        /** True when a device of {@code deviceBytes} holds at least one more block than the filesystem uses. */
        boolean smallerThan(long deviceBytes) {
            return deviceBytes / blockSize > blocks;
        }
    }

    /** Forced check before an offline resize (resize2fs requires it); exit 1 (errors fixed) is fine. */
    void ext4Check(Path device) throws CommandException {
        runner.run(Command.of("e2fsck", "-f", "-p", "--", device.toString()).withTimeout(LONG)).checkExit(0, 1);
    }

    /** Grows ext4 to fill its device: offline when unmounted, online (needs CAP_SYS_RESOURCE) when mounted. */
    CommandResult ext4Grow(Path device) throws CommandException {
        return runner.run(Command.of("resize2fs", "--", device.toString()).withTimeout(LONG));
    }

    /** Grows a mounted XFS to fill its device; a no-op when it already does. */
    void xfsGrow(Path mountPoint) throws CommandException {
        runner.run(Command.of("xfs_growfs", "-d", "--", mountPoint.toString()).withTimeout(LONG)).checkSuccess();
    }

    /** Size in bytes of a block device (or a file a device is bound onto). */
    long deviceSize(Path device) throws CommandException {
        CommandResult r = runner.run(Command.of("blockdev", "--getsize64", device.toString()).withTimeout(SHORT))
                .checkSuccess();
        try {
            return Long.parseLong(r.stdout().trim());
        } catch (NumberFormatException e) {
            throw new CommandException(r.argv(), "blockdev printed '" + Requests.shorten(r.stdout().trim())
                    + "', not a size", e);
        }
    }

    /** Usage of the filesystem mounted at {@code path}. */
    record Usage(long totalBytes, long availableBytes, long usedBytes, long totalInodes, long freeInodes) {
        long usedInodes() {
            return totalInodes - freeInodes;
        }
    }

    /** {@code statfs(2)} of {@code path} through {@code stat -f} (Java has no inode counts). */
    Usage usage(Path path) throws CommandException {
        CommandResult r = runner.run(Command.of("stat", "-f", "-c", "%S %b %f %a %c %d", "--", path.toString())
                .withTimeout(SHORT)).checkSuccess();
        String[] f = r.stdout().trim().split("\\s+");
        if (f.length != 6) {
            throw new CommandException(r.argv(), "stat -f printed '" + Requests.shorten(r.stdout().trim())
                    + "', expected 6 numbers", null);
        }
        try {
            long frag = Long.parseLong(f[0]);
            long blocks = Long.parseLong(f[1]);
            long free = Long.parseLong(f[2]);
            long avail = Long.parseLong(f[3]);
            return new Usage(blocks * frag, avail * frag, (blocks - free) * frag, Long.parseLong(f[4]),
                    Long.parseLong(f[5]));
        } catch (NumberFormatException e) {
            throw new CommandException(r.argv(), "stat -f printed a non-number: " + Requests.shorten(r.stdout()), e);
        }
    }
}
