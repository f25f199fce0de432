package dev.nodekit.csi.rbd;

import dev.nodekit.csi.rbd.ceph.CephBusyException;
import dev.nodekit.csi.rbd.ceph.CephException;
import dev.nodekit.csi.rbd.ceph.CephNotFoundException;
import dev.nodekit.csi.rbd.ceph.CephPermissionDeniedException;
import dev.nodekit.csi.rbd.ceph.CephUnavailableException;
import dev.nodekit.csi.spi.StorageException;

/** Maps Ceph failures to the SPI's exceptions, once, with the operation that failed in the message. */
final class Errors {
    private static final int ENOSPC = 28;
    private static final int EDQUOT = 122;
    private static final int EFBIG = 27;

    private Errors() {
    }

    /**
     * The StorageException for {@code e} while doing {@code doing}. ENOENT here means something the
     * caller expected to exist vanished mid-operation: Internal unless the caller handled it first.
     */
    static StorageException map(CephException e, String doing) {
        String msg = doing + ": " + e.getMessage();
        if (e instanceof CephPermissionDeniedException) {
            return new StorageException.PermissionDenied(doing + ": Ceph refused the credentials or their caps ("
                    + e.errnoName() + "); check the secrets userID/userKey and the user's caps (mon 'profile rbd', "
                    + "osd 'profile rbd pool=...', mgr 'profile rbd pool=...'); " + e.getMessage(), e);
        }
        if (e instanceof CephUnavailableException) {
            return new StorageException.Unavailable(msg + " (the Ceph cluster did not answer in time; retry)", e);
        }
        if (e instanceof CephBusyException) {
            return new StorageException.FailedPrecondition(msg + " (in use)");
        }
        if (e.errno() == ENOSPC || e.errno() == EDQUOT || e.errno() == EFBIG) {
            return new StorageException.CapacityExceeded(msg);
        }
        if (e instanceof CephNotFoundException) {
            return new StorageException.NotFound(msg);
        }
        return new StorageException.Internal(msg, e);
    }

    /** True when the session itself is unusable (blocklisted): the caller discards it. */
    static boolean blocklisted(CephException e) {
        return e instanceof CephUnavailableException u && u.blocklisted();
    }
}
