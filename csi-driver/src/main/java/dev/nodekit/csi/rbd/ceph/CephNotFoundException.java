package dev.nodekit.csi.rbd.ceph;

/** The object, image, snapshot, pool or key does not exist (ENOENT). */
public final class CephNotFoundException extends CephException {
    private static final long serialVersionUID = 1L;

    CephNotFoundException(int errno, String what, String message) {
        super(errno, what, message);
    }
}
