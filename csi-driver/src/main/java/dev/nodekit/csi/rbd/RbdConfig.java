package dev.nodekit.csi.rbd;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.config.ConfigLoader;

/**
 * The RBD backend's {@code --ceph-config} file (YAML or JSON, read with common's ConfigLoader),
 * the counterpart of ceph-csi's {@code config.json}: the clusters StorageClasses may name by
 * {@code clusterID}, with their monitors and optional per-cluster settings, plus backend-wide
 * knobs. Example:
 *
 * <pre>
 * instanceID: default            # journal objects csi.volumes.&lt;instanceID&gt;, csi.snaps.&lt;instanceID&gt;
 * softMaxCloneDepth: 4           # clones deeper than this are flattened in the background
 * hardMaxCloneDepth: 8           # a clone would be deeper: its source is flattened first (ABORTED meanwhile)
 * sessionIdleTimeout: 5m         # a Ceph connection unused this long is closed
 * flattenWorkers: 2              # background flattens and trash purges at once
 * clusters:
 *   - clusterID: ceph-a          # what StorageClasses say; part of every volume id; never change it
 *     monitors: "[v2:10.0.0.1:3300,v1:10.0.0.1:6789]"
 *     journalPool: csi-journal   # optional: journals here instead of in each image pool
 *     connectTimeout: 10s
 *     operationTimeout: 30s      # bound on each OSD operation / monitor command
 *     credentialFile: /etc/nodekit/ceph-a   # optional: a mounted Secret (files userID, userKey)
 * </pre>
 *
 * @param instanceID         suffix of the journal directory objects; several drivers can share a
 *                           pool with distinct ids
 * @param softMaxCloneDepth  clone chain depth above which a new clone is flattened in the background
 * @param hardMaxCloneDepth  clone chain depth no image may exceed
 * @param sessionIdleTimeout how long an unused Ceph connection stays open
 * @param flattenWorkers     threads for background flattens and trash purges
 * @param clusters           the clusters, by clusterID
 */
public record RbdConfig(String instanceID, Integer softMaxCloneDepth, Integer hardMaxCloneDepth,
        Duration sessionIdleTimeout, Integer flattenWorkers, List<Cluster> clusters) {
    private static final Pattern INSTANCE = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /**
     * One cluster.
     *
     * @param clusterID        the id StorageClasses use ({@code clusterID} parameter) and volume ids
     *                         carry: 1-40 characters of {@code [A-Za-z0-9._-]} (a Ceph fsid fits)
     * @param monitors         {@code mon_host} syntax; prefer {@code v2:}/{@code v1:} prefixes
     * @param journalPool      optional pool for every journal of this cluster; empty: each image
     *                         pool holds its own (ceph-csi's default). Never change it afterwards
     * @param connectTimeout   bound on connecting and authenticating (default 10 s)
     * @param operationTimeout bound on each OSD operation or monitor command (default 30 s)
     * @param credentialFile   optional credential for calls without CSI secrets (ListVolumes,
     *                         GetCapacity, ControllerGetVolume) and for node healing: a directory
     *                         holding files {@code userID} and {@code userKey} (a mounted Kubernetes
     *                         Secret) or a YAML/JSON file with those two keys
     */
    public record Cluster(String clusterID, String monitors, String journalPool, Duration connectTimeout,
            Duration operationTimeout, String credentialFile) {
        private static final Pattern CLUSTER_ID = Pattern.compile("[A-Za-z0-9._-]{1,40}");
        private static final Pattern POOL = Pattern.compile("[^\\x00/@\\s]{1,256}");

        /** Validates and fills defaults. */
        public Cluster {
            Objects.requireNonNull(clusterID, "clusterID");
            if (!CLUSTER_ID.matcher(clusterID).matches() || clusterID.equals(".") || clusterID.equals("..")) {
                throw new IllegalArgumentException("clusterID: '" + clusterID
                        + "' must be 1-40 characters of A-Z a-z 0-9 . _ - (it is part of every volume id)");
            }
            Objects.requireNonNull(monitors, "monitors");
            monitors = monitors.strip();
            if (monitors.isEmpty() || !monitors.chars().allMatch(c -> c > ' ' && c < 127)) {
                throw new IllegalArgumentException("monitors: must be a mon_host list without spaces, e.g. "
                        + "[v2:10.0.0.1:3300,v1:10.0.0.1:6789]");
            }
            if (journalPool != null && (journalPool.isEmpty() || !POOL.matcher(journalPool).matches())) {
                throw new IllegalArgumentException("journalPool: '" + journalPool + "' is not a pool name");
            }
            connectTimeout = checkTimeout("connectTimeout", connectTimeout, Duration.ofSeconds(10));
            operationTimeout = checkTimeout("operationTimeout", operationTimeout, Duration.ofSeconds(30));
            if (credentialFile != null && !Path.of(credentialFile).isAbsolute()) {
                throw new IllegalArgumentException("credentialFile: must be an absolute path, got " + credentialFile);
            }
        }

        /** The journal pool, if one is configured for the whole cluster. */
        public Optional<String> journalPoolName() {
            return Optional.ofNullable(journalPool);
        }

        /** The credential file, if configured. */
        public Optional<Path> credentialPath() {
            return Optional.ofNullable(credentialFile).map(Path::of);
        }

        /** True when the monitor list names its protocols (librados then reports bad keys at once). */
        public boolean monitorsHavePrefixes() {
            return monitors.contains("v1:") || monitors.contains("v2:");
        }

        private static Duration checkTimeout(String name, Duration d, Duration dflt) {
            if (d == null) {
                return dflt;
            }
            if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
                throw new IllegalArgumentException(name + ": " + d + " must be between 1s and 1h");
            }
            return d;
        }
    }

    /** Validates and fills defaults. */
    public RbdConfig {
        instanceID = instanceID == null ? "default" : instanceID;
        if (!INSTANCE.matcher(instanceID).matches()) {
            throw new IllegalArgumentException("instanceID: '" + instanceID + "' must be 1-64 of A-Z a-z 0-9 . _ -");
        }
        softMaxCloneDepth = softMaxCloneDepth == null ? 4 : softMaxCloneDepth;
        hardMaxCloneDepth = hardMaxCloneDepth == null ? 8 : hardMaxCloneDepth;
        if (softMaxCloneDepth < 1 || hardMaxCloneDepth > 64 || softMaxCloneDepth >= hardMaxCloneDepth) {
            throw new IllegalArgumentException("softMaxCloneDepth: " + softMaxCloneDepth + " must be at least 1 and "
                    + "below hardMaxCloneDepth " + hardMaxCloneDepth + " (at most 64)");
        }
        sessionIdleTimeout = sessionIdleTimeout == null ? Duration.ofMinutes(5) : sessionIdleTimeout;
        if (sessionIdleTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("sessionIdleTimeout: must be at least 1s, got " + sessionIdleTimeout);
        }
        flattenWorkers = flattenWorkers == null ? 2 : flattenWorkers;
        if (flattenWorkers < 1 || flattenWorkers > 64) {
            throw new IllegalArgumentException("flattenWorkers: must be between 1 and 64, got " + flattenWorkers);
        }
        Objects.requireNonNull(clusters, "clusters");
        if (clusters.isEmpty()) {
            throw new IllegalArgumentException("clusters: list at least one cluster (clusterID, monitors)");
        }
        Set<String> seen = new HashSet<>();
        for (Cluster c : clusters) {
            Objects.requireNonNull(c, "clusters");
            if (!seen.add(c.clusterID())) {
                throw new IllegalArgumentException("clusters: clusterID '" + c.clusterID() + "' is listed twice");
            }
        }
        clusters = List.copyOf(clusters);
    }

    /** Reads and validates {@code file}; the message names the file, line and field that are wrong. */
    public static RbdConfig load(Path file) throws ConfigException {
        return ConfigLoader.load(file, RbdConfig.class);
    }

    /** A config of these clusters with every default. */
    public static RbdConfig of(List<Cluster> clusters) {
        return new RbdConfig(null, null, null, null, null, clusters);
    }

    /** The cluster with this id. */
    public Optional<Cluster> cluster(String clusterID) {
        return clusters.stream().filter(c -> c.clusterID().equals(clusterID)).findFirst();
    }

    /** The configured cluster ids, in file order. */
    public List<String> clusterIDs() {
        List<String> ids = new ArrayList<>();
        clusters.forEach(c -> ids.add(c.clusterID()));
        return ids;
    }

    /** True when every cluster has a credential file: calls without secrets work everywhere. */
    public boolean everyClusterHasCredentials() {
        return clusters.stream().allMatch(c -> c.credentialFile() != null);
    }
}
