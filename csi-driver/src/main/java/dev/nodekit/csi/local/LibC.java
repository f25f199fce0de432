package dev.nodekit.csi.local;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.LongByReference;

/**
 * The few libc calls the JDK does not offer: FICLONE, SEEK_DATA/SEEK_HOLE, copy_file_range (Linux,
 * LP64: off_t and ssize_t are 64-bit). Callers check the return value and read errno with
 * {@link Native#getLastError()}.
 */
interface LibC extends Library {
    LibC INSTANCE = Native.load("c", LibC.class);

    int O_RDONLY = 0;
    int O_WRONLY = 1;
    int O_RDWR = 2;
    int O_CREAT = 0100;
    int O_EXCL = 0200;
    int O_CLOEXEC = 02000000;

    int SEEK_END = 2;
    int SEEK_DATA = 3;
    int SEEK_HOLE = 4;

    /** {@code _IOW(0x94, 9, int)}: share the source's extents with the destination (Linux 4.5+). */
    long FICLONE = 0x40049409L;

    int EPERM = 1;
    int EINTR = 4;
    int EBADF = 9;
    int EXDEV = 18;
    int EINVAL = 22;
    int ENOTTY = 25;
    int EFBIG = 27;
    int ENOSPC = 28;
    int ENOSYS = 38;
    int EOPNOTSUPP = 95;
    int EDQUOT = 122;
    int ENXIO = 6;

    int open(String path, int flags, int mode);

    int close(int fd);

    int ioctl(int fd, NativeLong request, Object... args);

    long lseek(int fd, long offset, int whence);

    long copy_file_range(int fdIn, LongByReference offIn, int fdOut, LongByReference offOut, long len, int flags);

    long pread(int fd, Pointer buf, long count, long offset);

    long pwrite(int fd, Pointer buf, long count, long offset);

    int ftruncate(int fd, long length);

    int fsync(int fd);

    String strerror(int errnum);
}
