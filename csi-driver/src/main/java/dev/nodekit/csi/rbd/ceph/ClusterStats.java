package dev.nodekit.csi.rbd.ceph;

/**
 * Raw capacity of the whole cluster ({@code rados_cluster_stat}), before replication: what the
 * OSDs have, not what a pool can still take (see {@link PoolUsage#maxAvailableBytes()}).
 *
 * @param totalBytes     raw capacity of all OSDs
 * @param usedBytes      raw bytes in use
 * @param availableBytes raw bytes free
 * @param objects        objects in all pools
 */
public record ClusterStats(long totalBytes, long usedBytes, long availableBytes, long objects) {
}
