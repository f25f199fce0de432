package dev.nodekit.csi.rbd.ceph;

/** Which namespace a snapshot lives in (rbd_snap_namespace_type_t). */
public enum SnapshotNamespace {
    /** A snapshot a user made. */
    USER,
    /** Part of a group snapshot. */
    GROUP,
    /**
     * A removed snapshot kept because clone-v2 children still depend on it; it disappears when the
     * last child is flattened or removed.
     */
    TRASH,
    /** Made by snapshot-based mirroring. */
    MIRROR,
    /** A namespace this version does not know. */
    UNKNOWN;

    static SnapshotNamespace of(int value) {
        return switch (value) {
            case 0 -> USER;
            case 1 -> GROUP;
            case 2 -> TRASH;
            case 3 -> MIRROR;
            default -> UNKNOWN;
        };
    }
}
