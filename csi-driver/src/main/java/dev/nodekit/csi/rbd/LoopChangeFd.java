package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.file.Path;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLong;

/**
 * {@code LOOP_CHANGE_FD}: points a bound loop device at another file of the same size without
 * unbinding it, which is how a read-only loop device stays mounted while the rbd-fuse daemon
 * behind it is replaced. The kernel allows it for read-only devices only.
 */
final class LoopChangeFd {
    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final long LOOP_CHANGE_FD = 0x4C06;

    /** The libc calls used. */
    interface LibC extends Library {
        int open(String path, int flags);

        int close(int fd);

        int ioctl(int fd, NativeLong request, long arg);
    }

    private static final class Holder {
        static final LibC LIBC = Native.load("c", LibC.class);
    }

    private LoopChangeFd() {
    }

    /** Re-points read-only {@code device} at {@code file}. */
    static void changeFd(Path device, Path file) throws IOException {
        LibC c = Holder.LIBC;
        int dev = c.open(device.toString(), O_RDONLY | O_CLOEXEC);
        if (dev < 0) {
            throw new IOException("open " + device + " failed: errno " + Native.getLastError());
        }
        try {
            int f = c.open(file.toString(), O_RDONLY | O_CLOEXEC);
            if (f < 0) {
                throw new IOException("open " + file + " failed: errno " + Native.getLastError());
            }
            try {
                if (c.ioctl(dev, new NativeLong(LOOP_CHANGE_FD), f) < 0) {
                    throw new IOException("LOOP_CHANGE_FD on " + device + " failed: errno " + Native.getLastError());
                }
            } finally {
                c.close(f);
            }
        } finally {
            c.close(dev);
        }
    }
}
