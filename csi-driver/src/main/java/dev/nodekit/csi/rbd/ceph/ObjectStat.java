package dev.nodekit.csi.rbd.ceph;

import java.time.Instant;
import java.util.Objects;

/**
 * Size and modification time of a RADOS object (its data part; omap entries do not count).
 *
 * @param sizeBytes the object's data size
 * @param modified  the last modification, whole seconds
 */
public record ObjectStat(long sizeBytes, Instant modified) {
    /** Checks the fields. */
    public ObjectStat {
        Objects.requireNonNull(modified, "modified");
        if (sizeBytes < 0) {
            throw new IllegalArgumentException("sizeBytes " + sizeBytes + " < 0");
        }
    }
}
