package dev.nodekit.csi.local;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.ptr.LongByReference;

/**
 * Creates, copies and grows data files: sparse empty images, reflink clones (FICLONE) where the
 * filesystem shares extents (XFS with reflink=1, btrfs), and otherwise a sparse copy that copies
 * only the data ranges found with SEEK_DATA/SEEK_HOLE, in the kernel (copy_file_range). Every file
 * is fsynced before the method returns. See the package notes for the measured choice. Not final
 * only so that tests can hook it.
 */
class DataFiles {
    /** How a data file was made; recorded in the journal. */
    enum Method {
        EMPTY("empty"), REFLINK("reflink"), SPARSE_COPY("sparse-copy");

        final String id;

        Method(String id) {
            this.id = id;
        }
    }

    private static final int CHUNK = 8 << 20;
    private final boolean reflink;
    private final boolean sync;

    /**
     * @param reflink share extents where the filesystem can: FICLONE first, then copy_file_range
     *                (which also clones on XFS and btrfs); false copies every data byte through
     *                user space, so source and copy never share extents
     * @param sync    fsync every file before returning (see {@link Durability})
     */
    DataFiles(boolean reflink, boolean sync) {
        this.reflink = reflink;
        this.sync = sync;
    }

    /** Creates {@code file} (must not exist) as a sparse file of {@code size} bytes, mode 0600, synced. */
    Method createSparse(Path file, long size) throws IOException {
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(size);
            if (sync) {
                raf.getFD().sync();
            }
        }
        return Method.EMPTY;
    }

    /**
     * Copies {@code source} into the new file {@code target} (must not exist; mode 0600), then grows
     * it to {@code size} when that is larger than the source, and syncs it. Data of the source still
     * in the page cache is part of the copy (SEEK_DATA reports delayed allocations as data).
     *
     * @throws NoSuchFileException when the source does not exist
     */
    Method copy(Path source, Path target, long size) throws IOException {
        LibC c = LibC.INSTANCE;
        int in = open(source, LibC.O_RDONLY | LibC.O_CLOEXEC, 0);
        try {
            int out = c.open(target.toString(), LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL | LibC.O_CLOEXEC, 0600);
            if (out < 0) {
                int errno = Native.getLastError();
                if (errno == 17) {
                    throw new FileAlreadyExistsException(target.toString());
                }
                throw new NativeIOException("open", target, errno);
            }
            boolean ok = false;
            try {
                long sourceLength = c.lseek(in, 0, LibC.SEEK_END);
                if (sourceLength < 0) {
                    throw new NativeIOException("lseek", source, Native.getLastError());
                }
                Method method = reflink && cloneRange(in, out) ? Method.REFLINK : Method.SPARSE_COPY;
                if (method == Method.SPARSE_COPY) {
                    // copy_file_range clones on filesystems that can (XFS, btrfs): with reflink off, copy in user space.
                    copyDataRanges(in, out, source, target, sourceLength, reflink);
                }
                long length = Math.max(size, sourceLength);
                check(c.ftruncate(out, length), "ftruncate", target);
                if (sync) {
                    check(c.fsync(out), "fsync", target);
                }
                ok = true;
                return method;
            } finally {
                c.close(out);
                if (!ok) {
                    Files.deleteIfExists(target);
                }
            }
        } finally {
            c.close(in);
        }
    }

    /** Grows {@code file} to {@code size} bytes (a hole at the end) and syncs it. */
    void grow(Path file, long size) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            if (raf.length() < size) {
                raf.setLength(size);
            }
            if (sync) {
                raf.getFD().sync();
            }
        }
    }

    /** True when FICLONE shared the whole source with {@code out}; false when the filesystem cannot. */
    private static boolean cloneRange(int in, int out) throws IOException {
        int rc = LibC.INSTANCE.ioctl(out, new NativeLong(LibC.FICLONE), in);
        if (rc == 0) {
            return true;
        }
        int errno = Native.getLastError();
        if (errno == LibC.EOPNOTSUPP || errno == LibC.EXDEV || errno == LibC.EINVAL || errno == LibC.ENOTTY
                || errno == LibC.ENOSYS) {
            return false;
        }
        throw new NativeIOException("ioctl(FICLONE)", "", errno);
    }

    /** Copies each [SEEK_DATA, SEEK_HOLE) range of {@code in}; holes stay holes. */
    private static void copyDataRanges(int in, int out, Path source, Path target, long length, boolean kernel)
            throws IOException {
        LibC c = LibC.INSTANCE;
        long offset = 0;
        boolean kernelCopy = kernel;
        Memory buffer = null;
        while (offset < length) {
            long data = c.lseek(in, offset, LibC.SEEK_DATA);
            if (data < 0) {
                int errno = Native.getLastError();
                if (errno == LibC.ENXIO) {
                    break; // only a hole is left
                }
                throw new NativeIOException("lseek(SEEK_DATA)", source, errno);
            }
            long hole = c.lseek(in, data, LibC.SEEK_HOLE);
            if (hole < 0) {
                throw new NativeIOException("lseek(SEEK_HOLE)", source, Native.getLastError());
            }
            hole = Math.min(hole, length);
            long pos = data;
            while (pos < hole) {
                long want = Math.min(hole - pos, CHUNK);
                long n;
                if (kernelCopy) {
                    LongByReference inOff = new LongByReference(pos);
                    LongByReference outOff = new LongByReference(pos);
                    n = c.copy_file_range(in, inOff, out, outOff, want, 0);
                    if (n < 0) {
                        int errno = Native.getLastError();
                        if (errno == LibC.EINTR) {
                            continue;
                        }
                        if (errno == LibC.EXDEV || errno == LibC.ENOSYS || errno == LibC.EOPNOTSUPP
                                || errno == LibC.EINVAL) {
                            kernelCopy = false; // e.g. an old kernel or an exotic filesystem: copy through user space
                            continue;
                        }
                        throw new NativeIOException("copy_file_range", source + " -> " + target, errno);
                    }
                } else {
                    if (buffer == null) {
                        buffer = new Memory(CHUNK);
                    }
                    n = preadPwrite(in, out, buffer, pos, want, source, target);
                }
                if (n == 0) {
                    return; // the source shrank under us: what was there is copied
                }
                pos += n;
            }
            offset = hole;
        }
    }

    private static long preadPwrite(int in, int out, Memory buffer, long pos, long want, Path source, Path target)
            throws IOException {
        LibC c = LibC.INSTANCE;
        long r = c.pread(in, buffer, want, pos);
        if (r < 0) {
            throw new NativeIOException("pread", source, Native.getLastError());
        }
        long written = 0;
        while (written < r) {
            long w = c.pwrite(out, buffer.share(written), r - written, pos + written);
            if (w < 0) {
                int errno = Native.getLastError();
                if (errno == LibC.EINTR) {
                    continue;
                }
                throw new NativeIOException("pwrite", target, errno);
            }
            written += w;
        }
        return r;
    }

    private static int open(Path file, int flags, int mode) throws IOException {
        int fd = LibC.INSTANCE.open(file.toString(), flags, mode);
        if (fd < 0) {
            int errno = Native.getLastError();
            if (errno == 2) {
                throw new NoSuchFileException(file.toString());
            }
            throw new NativeIOException("open", file, errno);
        }
        return fd;
    }

    private static void check(int rc, String call, Path file) throws IOException {
        if (rc != 0) {
            throw new NativeIOException(call, file, Native.getLastError());
        }
    }
}
