package dev.nodekit.csi.rbd.ceph;

/** The object, image or snapshot already exists (EEXIST), e.g. an exclusive create lost the race. */
public final class CephAlreadyExistsException extends CephException {
    private static final long serialVersionUID = 1L;

    CephAlreadyExistsException(int errno, String what, String message) {
        super(errno, what, message);
    }
}
