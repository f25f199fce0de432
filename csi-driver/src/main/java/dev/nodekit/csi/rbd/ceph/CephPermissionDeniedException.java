package dev.nodekit.csi.rbd.ceph;

/** The cluster rejected the credentials (unknown user or wrong key) or the user's caps do not allow the operation (EPERM/EACCES). */
public final class CephPermissionDeniedException extends CephException {
    private static final long serialVersionUID = 1L;

    CephPermissionDeniedException(int errno, String what, String message) {
        super(errno, what, message);
    }
}
