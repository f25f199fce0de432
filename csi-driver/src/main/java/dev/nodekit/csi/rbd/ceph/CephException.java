package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * A librados/librbd call failed. Carries the positive errno the library returned (0 when the
 * failure did not come from the library) and {@link #what()}: the operation and the names it was
 * about ({@code "rbd create pool=rbd image=csi-vol-1"}), never a key. The subclasses are the
 * failures a caller decides on: {@link CephNotFoundException} (ENOENT),
 * {@link CephAlreadyExistsException} (EEXIST), {@link CephPermissionDeniedException}
 * (EPERM/EACCES), {@link CephUnavailableException} (the cluster did not answer in time or the
 * session is gone), {@link CephBusyException} (EBUSY) and {@link CephLibraryUnavailableException};
 * any other errno is a plain {@code CephException}.
 */
public class CephException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;
    private final String what;

    CephException(int errno, String what, String message) {
        super(message);
        this.errno = errno;
        this.what = Objects.requireNonNull(what, "what");
    }

    /**
     * The exception for {@code rc}, a negative return code of a librados/librbd call.
     *
     * @param rc   the return code, negative errno
     * @param what the operation and its subjects, for the message
     * @param hint an extra sentence for the message (may be empty)
     */
    static CephException fromReturnCode(int rc, String what, String hint) {
        int errno = Math.abs(rc);
        String message = what + ": " + Errno.name(errno) + " (" + Errno.text(errno) + ")"
                + (hint == null || hint.isEmpty() ? "" : "; " + hint);
        return switch (errno) {
            case Errno.ENOENT -> new CephNotFoundException(errno, what, message);
            case Errno.EEXIST -> new CephAlreadyExistsException(errno, what, message);
            case Errno.EPERM, Errno.EACCES -> new CephPermissionDeniedException(errno, what, message);
            case Errno.ETIMEDOUT, Errno.ENOTCONN, Errno.ESHUTDOWN, Errno.ECONNREFUSED, Errno.EHOSTUNREACH,
                    Errno.ENETUNREACH, Errno.ECONNRESET, Errno.ECONNABORTED ->
                    new CephUnavailableException(errno, what, message);
            case Errno.EBUSY -> new CephBusyException(errno, what, message);
            default -> new CephException(errno, what, message);
        };
    }

    /** A plain CephException for {@code rc}, for the few places where the errno means something else. */
    static CephException unmapped(int rc, String what, String hint) {
        int errno = Math.abs(rc);
        return new CephException(errno, what, what + ": " + Errno.name(errno) + " (" + Errno.text(errno) + "); " + hint);
    }

    static CephException fromReturnCode(int rc, String what) {
        return fromReturnCode(rc, what, "");
    }

    /** Throws the mapped exception when {@code rc} is negative; returns {@code rc} otherwise. */
    static int check(int rc, String what) throws CephException {
        if (rc < 0) {
            throw fromReturnCode(rc, what);
        }
        return rc;
    }

    /** The errno (positive), or 0 when the failure did not come from librados/librbd. */
    public int errno() {
        return errno;
    }

    /** The symbolic errno ({@code ENOENT}), or {@code errno N} for numbers nodekit does not name. */
    public String errnoName() {
        return errno == 0 ? "none" : Errno.name(errno);
    }

    /** The operation and its subjects, e.g. {@code "rbd create pool=rbd image=csi-vol-1"}. */
    public String what() {
        return what;
    }
}
