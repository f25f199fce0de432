package dev.nodekit.csi.local;

import java.io.IOException;

/** A failed libc call, with its errno (ENOSPC, EFBIG... are mapped to domain errors by the backend). */
final class NativeIOException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int errno;

    NativeIOException(String call, Object subject, int errno) {
        super(call + " " + subject + ": " + describe(errno) + " (errno " + errno + ")");
        this.errno = errno;
    }

    int errno() {
        return errno;
    }

    private static String describe(int errno) {
        try {
            return LibC.INSTANCE.strerror(errno);
        } catch (RuntimeException | LinkageError e) {
            return "error";
        }
    }
}
