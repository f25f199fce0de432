package dev.nodekit.conformance.csi;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import dev.nodekit.common.exec.Executables;

/** What a check does through a staged or published volume: files, raw blocks, sizes, read-only probes, cleanup. */
final class NodeIo {
    /** S_IFMT / S_IFBLK from stat(2). */
    private static final int S_IFMT = 0170000;
    private static final int S_IFBLK = 0060000;

    private NodeIo() {
    }

    /**
     * {@code path} as mountinfo shows it: absolute, symlinks resolved (for a path that does not exist,
     * its nearest existing ancestor is resolved and the rest appended).
     */
    static Path canonical(Path path) {
        Path p = path.toAbsolutePath().normalize();
        Path tail = null;
        Path cur = p;
        while (cur != null) {
            try {
                Path real = cur.toRealPath();
                return tail == null ? real : real.resolve(tail);
            } catch (IOException e) {
                Path name = cur.getFileName();
                if (name == null) {
                    return p;
                }
                tail = tail == null ? name : name.resolve(tail);
                cur = cur.getParent();
            }
        }
        return p;
    }

    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        return b;
    }

    /** Writes {@code data} to {@code file} and fsyncs it, so a snapshot or another mount sees it. */
    static void writeFile(Path file, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(data);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
    }

    /** The content of {@code file}, or empty when it does not exist. */
    static Optional<byte[]> readFile(Path file) throws IOException {
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /** True when {@code e} is the kernel's EROFS ("Read-only file system"). */
    static boolean isReadOnly(IOException e) {
        return e instanceof FileSystemException fse && fse.getReason() != null
                && fse.getReason().contains("Read-only file system");
    }

    /** Writes {@code data} at {@code offset} of a block device (or any file) and fsyncs it. */
    static void writeBlock(Path device, long offset, byte[] data) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.WRITE)) {
            ByteBuffer buf = ByteBuffer.wrap(data);
            long pos = offset;
            while (buf.hasRemaining()) {
                pos += ch.write(buf, pos);
            }
            ch.force(true);
        }
    }

    /** Reads {@code length} bytes at {@code offset} of a block device (or any file). */
    static byte[] readBlock(Path device, long offset, int length) throws IOException {
        try (FileChannel ch = FileChannel.open(device, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(length);
            long pos = offset;
            while (buf.hasRemaining()) {
                int n = ch.read(buf, pos);
                if (n < 0) {
                    break;
                }
                pos += n;
            }
            return buf.array();
        }
    }

    /** True when {@code path} is a block device node (a bind mount of one included). */
    static boolean isBlockDevice(Path path) throws IOException {
        int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        return (mode & S_IFMT) == S_IFBLK;
    }

    /** The size in bytes of the block device node at {@code path}, from {@code /sys/dev/block/MAJ:MIN/size}. */
    static long blockDeviceSize(Path path) throws IOException {
        long rdev = (Long) Files.getAttribute(path, "unix:rdev", LinkOption.NOFOLLOW_LINKS);
        long major = ((rdev >>> 8) & 0xfffL) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xffL) | ((rdev >>> 12) & ~0xffL);
        String sectors = Files.readString(Path.of("/sys/dev/block/" + major + ":" + minor + "/size")).trim();
        return Long.parseLong(sectors) * 512L;
    }

    /** statvfs total bytes of the filesystem holding {@code path}. */
    static long filesystemTotal(Path path) throws IOException {
        return Files.getFileStore(path).getTotalSpace();
    }

    /**
     * Removes a directory tree the run created, after making sure nothing is mounted in it. Mounts a
     * plugin left behind are lazily unmounted (deepest first) so the host is not left dirty, and
     * reported: the caller turns them into a failure. Never deletes through a mount point.
     *
     * @return what was found left behind (empty when the tree was clean)
     */
    static List<String> removeTree(Path dir) throws IOException {
        List<String> leftovers = new ArrayList<>();
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return leftovers;
        }
        List<MountTable.Entry> mounts = MountTable.read().under(dir);
        if (!mounts.isEmpty()) {
            List<Path> points = mounts.stream().map(MountTable.Entry::mountPoint).distinct()
                    .sorted(Comparator.comparingInt(Path::getNameCount).reversed()).toList();
            for (Path p : points) {
                leftovers.add("mount at " + p);
                unmountLazily(p);
            }
            if (!MountTable.read().under(dir).isEmpty()) {
                leftovers.add("could not unmount everything under " + dir + "; left it in place");
                return leftovers;
            }
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
        return leftovers;
    }

    /** {@code umount -l PATH} (Java has no mount syscalls); best effort, the caller re-reads the mount table. */
    static void unmountLazily(Path p) {
        Optional<Path> umount = Executables.which("umount");
        if (umount.isEmpty()) {
            return;
        }
        try {
            Process proc = new ProcessBuilder(umount.get().toString(), "-l", p.toString())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!proc.waitFor(30, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
            }
        } catch (IOException e) {
            // reported by the caller through the mount table
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
