package dev.nodekit.csi.rbd.ceph;

/**
 * Usage of one pool as librados reports it ({@code rados_ioctx_pool_stat}). The numbers come from
 * the manager's PG statistics, so they lag writes by a few seconds and are zero while no
 * ceph-mgr runs. For free space use {@link RadosCluster#poolUsage(String)}.
 *
 * @param bytesUsed       raw bytes stored, all replicas ({@code num_bytes})
 * @param userBytes       bytes stored by clients, one replica ({@code num_user_bytes})
 * @param objects         object count
 * @param objectClones    snapshot clones of objects
 * @param objectCopies    object copies across replicas
 * @param objectsDegraded objects with fewer copies than the pool size
 * @param objectsUnfound  objects no OSD has
 */
public record PoolStats(long bytesUsed, long userBytes, long objects, long objectClones, long objectCopies,
        long objectsDegraded, long objectsUnfound) {
}
