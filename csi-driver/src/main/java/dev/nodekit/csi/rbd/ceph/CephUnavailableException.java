package dev.nodekit.csi.rbd.ceph;

/**
 * The cluster did not answer within the configured timeout (ETIMEDOUT), the connection is gone
 * (ENOTCONN, ECONNREFUSED, ...) or this client instance was blocklisted (ESHUTDOWN). The
 * operation may or may not have been applied: retry it idempotently. After ESHUTDOWN
 * (blocklisted) the {@link RadosCluster} handle stays unusable; open a new one with
 * {@link RadosCluster#reconnect()}.
 */
public final class CephUnavailableException extends CephException {
    private static final long serialVersionUID = 1L;

    CephUnavailableException(int errno, String what, String message) {
        super(errno, what, message);
    }

    /** True when the cluster blocklisted this client: only a new connection helps. */
    public boolean blocklisted() {
        return errno() == Errno.ESHUTDOWN;
    }
}
