package dev.nodekit.csi.rbd.ceph;

/**
 * librados.so.2 or librbd.so.1 cannot be loaded on this host (not installed, wrong architecture,
 * or a 32-bit platform). Nothing Ceph-related can work until the packages are installed.
 */
public final class CephLibraryUnavailableException extends CephException {
    private static final long serialVersionUID = 1L;

    CephLibraryUnavailableException(String what, String message) {
        super(0, what, message);
    }
}
