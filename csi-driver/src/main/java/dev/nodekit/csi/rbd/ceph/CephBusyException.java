package dev.nodekit.csi.rbd.ceph;

/** The image or snapshot is in use (EBUSY): it has watchers (mapped or attached somewhere), children, or a lock held by another client. */
public final class CephBusyException extends CephException {
    private static final long serialVersionUID = 1L;

    CephBusyException(int errno, String what, String message) {
        super(errno, what, message);
    }
}
