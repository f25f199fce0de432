package dev.nodekit.csi.rbd;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

import dev.nodekit.csi.rbd.ceph.RbdFeature;
import dev.nodekit.csi.spi.StorageException;

/**
 * The StorageClass parameters of an RBD volume, validated: {@code clusterID} (may be omitted when
 * the config lists exactly one cluster), {@code pool} (required; the service passes it separately),
 * {@code imageFeatures} (default {@code layering}; layering is required, dependencies checked),
 * {@code dataPool}, {@code fsType} ({@code ext4} or {@code xfs}; accepted for ceph-csi
 * compatibility, the volume capability's fs_type decides what the node formats) and
 * {@code mounter} ({@code krbd} or {@code fuse}; default: the best the node has). Any other key is
 * refused by name.
 */
record VolumeParams(String clusterId, String pool, Set<RbdFeature> features, Optional<String> dataPool,
        Optional<Mounter> mounter) {
    static final String CLUSTER_ID = "clusterID";
    static final String POOL = "pool";
    static final String IMAGE_FEATURES = "imageFeatures";
    static final String DATA_POOL = "dataPool";
    static final String FS_TYPE = "fsType";
    static final String MOUNTER = "mounter";
    /** Every key a StorageClass may set, in the order the docs list them. */
    static final List<String> KEYS = List.of(CLUSTER_ID, POOL, IMAGE_FEATURES, DATA_POOL, FS_TYPE, MOUNTER);

    private static final Set<RbdFeature> SETTABLE = EnumSet.of(RbdFeature.LAYERING, RbdFeature.EXCLUSIVE_LOCK,
            RbdFeature.OBJECT_MAP, RbdFeature.FAST_DIFF, RbdFeature.DEEP_FLATTEN, RbdFeature.JOURNALING);
    private static final Pattern POOL_NAME = Pattern.compile("[^\\x00/@\\s]{1,256}");

    VolumeParams {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(pool, "pool");
        features = Set.copyOf(features);
        Objects.requireNonNull(dataPool, "dataPool");
        Objects.requireNonNull(mounter, "mounter");
    }

    /** Parses the parameters of a volume create; {@code specPool} is the pool the service split off. */
    static VolumeParams parse(Map<String, String> params, Optional<String> specPool, RbdConfig config)
            throws StorageException.InvalidArgument {
        rejectUnknown(params, KEYS);
        String cluster = clusterId(params, config);
        Optional<String> paramPool = Optional.ofNullable(params.get(POOL));
        if (specPool.isPresent() && paramPool.isPresent() && !specPool.equals(paramPool)) {
            throw invalid("parameters.pool '" + paramPool.get() + "' and the request's pool '" + specPool.get()
                    + "' differ");
        }
        String pool = specPool.or(() -> paramPool).orElseThrow(() -> invalid(
                "parameters.pool is required: the RBD pool to create the image in"));
        if (!POOL_NAME.matcher(pool).matches()) {
            throw invalid("parameters.pool '" + pool + "' is not a pool name");
        }
        Set<RbdFeature> features = features(params.getOrDefault(IMAGE_FEATURES, "layering"));
        Optional<String> dataPool = Optional.ofNullable(params.get(DATA_POOL));
        if (dataPool.isPresent() && !POOL_NAME.matcher(dataPool.get()).matches()) {
            throw invalid("parameters.dataPool '" + dataPool.get() + "' is not a pool name");
        }
        String fs = params.get(FS_TYPE);
        if (fs != null && !fs.equals("ext4") && !fs.equals("xfs")) {
            throw invalid("parameters.fsType '" + fs + "' must be ext4 or xfs");
        }
        Optional<Mounter> mounter;
        try {
            mounter = Optional.ofNullable(params.get(MOUNTER)).map(Mounter::parse);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
        return new VolumeParams(cluster, pool, features, dataPool, mounter);
    }

    /** The cluster a request names, or the only one configured. */
    static String clusterId(Map<String, String> params, RbdConfig config) throws StorageException.InvalidArgument {
        String cluster = params.get(CLUSTER_ID);
        if (cluster == null) {
            if (config.clusters().size() == 1) {
                return config.clusters().get(0).clusterID();
            }
            throw invalid("parameters.clusterID is required: this driver knows clusters " + config.clusterIDs());
        }
        if (config.cluster(cluster).isEmpty()) {
            throw invalid("parameters.clusterID '" + cluster + "' is not in --ceph-config (known: "
                    + config.clusterIDs() + ")");
        }
        return cluster;
    }

    /** Refuses any key not in {@code allowed}, naming it. */
    static void rejectUnknown(Map<String, String> params, List<String> allowed) throws StorageException.InvalidArgument {
        for (String k : new TreeSet<>(params.keySet())) {
            if (!allowed.contains(k)) {
                throw invalid("parameter '" + k + "' is not known to the rbd backend (known: "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    static Set<RbdFeature> features(String csv) throws StorageException.InvalidArgument {
        Set<RbdFeature> f;
        try {
            f = RbdFeature.parseList(csv);
        } catch (IllegalArgumentException e) {
            throw invalid("parameters.imageFeatures: " + e.getMessage());
        }
        for (RbdFeature x : f) {
            if (!SETTABLE.contains(x)) {
                throw invalid("parameters.imageFeatures: '" + x.cliName() + "' cannot be requested (librbd sets it)");
            }
        }
        if (!f.contains(RbdFeature.LAYERING)) {
            throw invalid("parameters.imageFeatures must include layering: snapshots and clones are layered images");
        }
        requires(f, RbdFeature.OBJECT_MAP, RbdFeature.EXCLUSIVE_LOCK);
        requires(f, RbdFeature.FAST_DIFF, RbdFeature.OBJECT_MAP);
        requires(f, RbdFeature.JOURNALING, RbdFeature.EXCLUSIVE_LOCK);
        return f;
    }

    private static void requires(Set<RbdFeature> f, RbdFeature feature, RbdFeature needed)
            throws StorageException.InvalidArgument {
        if (f.contains(feature) && !f.contains(needed)) {
            throw invalid("parameters.imageFeatures: " + feature.cliName() + " needs " + needed.cliName());
        }
    }

    static StorageException.InvalidArgument invalid(String message) {
        return new StorageException.InvalidArgument(message);
    }
}
