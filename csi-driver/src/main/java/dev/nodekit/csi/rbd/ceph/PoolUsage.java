package dev.nodekit.csi.rbd.ceph;

import java.util.Objects;

/**
 * One pool's line of {@code ceph df}: what it stores and how much more it can take, with the
 * pool's replication and the OSD full ratio already accounted for. {@link #maxAvailableBytes()} is
 * what a CSI GetCapacity reports.
 *
 * @param pool              the pool name
 * @param poolId            the pool id
 * @param storedBytes       bytes stored by clients (one replica)
 * @param usedBytes         raw bytes used, all replicas
 * @param maxAvailableBytes bytes clients can still write to this pool
 * @param objects           object count
 */
public record PoolUsage(String pool, long poolId, long storedBytes, long usedBytes, long maxAvailableBytes,
        long objects) {
    /** Checks the fields. */
    public PoolUsage {
        Objects.requireNonNull(pool, "pool");
    }
}
