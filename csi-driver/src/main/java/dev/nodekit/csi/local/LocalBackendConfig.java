package dev.nodekit.csi.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Configuration of the {@link LocalBackend}, validated on construction. Build it with
 * {@link #of(Path, String)} and the {@code with*} methods.
 *
 * @param dataDir            where the journal, the pools and the node state live (created if
 *                           missing); one backend process owns it at a time
 * @param nodeId             the node that holds the data, encoded as the cluster part of every id
 *                           (1-40 characters of {@code [A-Za-z0-9._-]}); ids of another node are
 *                           NotFound here. It is stamped into the data dir on first use and must
 *                           not change afterwards.
 * @param pools              the pools new images may be created in (each a directory under
 *                           {@code pools/}, which may be a mount of its own); pools found on disk
 *                           are always readable
 * @param defaultPool        the pool used when a request names none; one of {@code pools}
 * @param capacityLimitBytes the most bytes all images and snapshots together may provision
 *                           (logical sizes); 0 = only the filesystem limits
 * @param maxImageBytes      the largest image; 0 = no limit of our own
 * @param lockWait           how long a call waits for another call on the same name or id before
 *                           answering Pending
 * @param reflink            share extents for snapshots and clones where the filesystem can
 *                           (FICLONE; else a sparse copy in the kernel); false makes every copy a
 *                           full, independent sparse copy through user space
 * @param reattachOnStart    at startup, re-attach recorded images whose loop device the kernel lost
 *                           (e.g. after a reboot)
 * @param syncWrites         fsync every journal step and data file (the default): the journal survives
 *                           a power loss. Off, the steps keep their order and survive a killed
 *                           process but not a power loss or kernel crash; each create then costs no
 *                           disk flush (for development, CI and disks where a flush is slow)
 */
public record LocalBackendConfig(Path dataDir, String nodeId, Set<String> pools, String defaultPool,
        long capacityLimitBytes, long maxImageBytes, Duration lockWait, boolean reflink, boolean reattachOnStart,
        boolean syncWrites) {

    /** The pool name used by {@link #of}. */
    public static final String DEFAULT_POOL = "default";
    private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9._-]{1,40}");

    public LocalBackendConfig {
        Objects.requireNonNull(dataDir, "dataDir");
        if (nodeId == null || !NODE_ID.matcher(nodeId).matches() || nodeId.equals(".") || nodeId.equals("..")) {
            throw new IllegalArgumentException("nodeId '" + nodeId + "' must be 1-40 characters of [A-Za-z0-9._-]"
                    + " (it is part of every volume id; derive a short stable id for longer node names)");
        }
        Objects.requireNonNull(pools, "pools");
        if (pools.isEmpty()) {
            throw new IllegalArgumentException("at least one pool is required");
        }
        for (String p : pools) {
            if (!Layout.validPool(p)) {
                throw new IllegalArgumentException("pool name '" + p + "' must match " + Layout.POOL_NAME.pattern());
            }
        }
        pools = Set.copyOf(pools);
        if (!pools.contains(defaultPool)) {
            throw new IllegalArgumentException("default pool '" + defaultPool + "' is not one of the pools "
                    + new TreeSet<>(pools));
        }
        if (capacityLimitBytes < 0) {
            throw new IllegalArgumentException("capacityLimitBytes must not be negative");
        }
        if (maxImageBytes < 0) {
            throw new IllegalArgumentException("maxImageBytes must not be negative");
        }
        Objects.requireNonNull(lockWait, "lockWait");
        if (lockWait.isNegative() || lockWait.compareTo(Duration.ofMinutes(10)) > 0) {
            throw new IllegalArgumentException("lockWait must be between 0 and 10 minutes, got " + lockWait);
        }
    }

    /**
     * Defaults: one pool {@code default}, no capacity limit, no image size limit, 5 s lock wait,
     * reflink on, re-attach on start, synced writes.
     */
    public static LocalBackendConfig of(Path dataDir, String nodeId) {
        return new LocalBackendConfig(dataDir, nodeId, Set.of(DEFAULT_POOL), DEFAULT_POOL, 0, 0,
                Duration.ofSeconds(5), true, true, true);
    }

    /** This config with other pools. */
    public LocalBackendConfig withPools(String newDefaultPool, Set<String> newPools) {
        return new LocalBackendConfig(dataDir, nodeId, newPools, newDefaultPool, capacityLimitBytes, maxImageBytes,
                lockWait, reflink, reattachOnStart, syncWrites);
    }

    /** This config with a provisioning limit (0 = none). */
    public LocalBackendConfig withCapacityLimit(long bytes) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, bytes, maxImageBytes, lockWait, reflink,
                reattachOnStart, syncWrites);
    }

    /** This config with a largest image size (0 = none). */
    public LocalBackendConfig withMaxImageBytes(long bytes) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, capacityLimitBytes, bytes, lockWait,
                reflink, reattachOnStart, syncWrites);
    }

    /** This config with another lock wait. */
    public LocalBackendConfig withLockWait(Duration wait) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, capacityLimitBytes, maxImageBytes, wait,
                reflink, reattachOnStart, syncWrites);
    }

    /** This config with reflink tried or not. */
    public LocalBackendConfig withReflink(boolean tryReflink) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, capacityLimitBytes, maxImageBytes,
                lockWait, tryReflink, reattachOnStart, syncWrites);
    }

    /** This config with re-attach on start on or off. */
    public LocalBackendConfig withReattachOnStart(boolean reattach) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, capacityLimitBytes, maxImageBytes,
                lockWait, reflink, reattach, syncWrites);
    }

    /** This config with synced writes on or off (see the record's notes). */
    public LocalBackendConfig withSyncWrites(boolean sync) {
        return new LocalBackendConfig(dataDir, nodeId, pools, defaultPool, capacityLimitBytes, maxImageBytes,
                lockWait, reflink, reattachOnStart, sync);
    }
}
