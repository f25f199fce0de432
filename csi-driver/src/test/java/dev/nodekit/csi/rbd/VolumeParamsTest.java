package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.nodekit.csi.rbd.ceph.RbdFeature;
import dev.nodekit.csi.spi.StorageException;

class VolumeParamsTest {
    private static final RbdConfig ONE = RbdConfig.of(List.of(new RbdConfig.Cluster("a", "v2:1.2.3.4:3300", null, null,
            null, null)));
    private static final RbdConfig TWO = RbdConfig.of(List.of(new RbdConfig.Cluster("a", "m", null, null, null, null),
            new RbdConfig.Cluster("b", "m", null, null, null, null)));

    @Test
    void defaultsAndTheOnlyCluster() throws Exception {
        VolumeParams p = VolumeParams.parse(Map.of(), Optional.of("rbd"), ONE);
        assertThat(p.clusterId()).isEqualTo("a");
        assertThat(p.pool()).isEqualTo("rbd");
        assertThat(p.features()).containsExactly(RbdFeature.LAYERING);
        assertThat(p.mounter()).isEmpty();
        VolumeParams q = VolumeParams.parse(Map.of("clusterID", "b", "pool", "p2", "imageFeatures",
                "layering,exclusive-lock,object-map,fast-diff", "dataPool", "ec", "fsType", "xfs", "mounter", "fuse"),
                Optional.empty(), TWO);
        assertThat(q.clusterId()).isEqualTo("b");
        assertThat(q.pool()).isEqualTo("p2");
        assertThat(q.features()).contains(RbdFeature.FAST_DIFF);
        assertThat(q.dataPool()).contains("ec");
        assertThat(q.mounter()).contains(Mounter.FUSE);
    }

    @Test
    void everyProblemIsNamed() {
        expect(Map.of("size", "1"), Optional.of("rbd"), ONE, "'size'");
        expect(Map.of(), Optional.empty(), ONE, "parameters.pool is required");
        expect(Map.of(), Optional.of("rbd"), TWO, "clusterID is required");
        expect(Map.of("clusterID", "zz"), Optional.of("rbd"), TWO, "'zz' is not in --ceph-config");
        expect(Map.of("imageFeatures", "exclusive-lock"), Optional.of("rbd"), ONE, "must include layering");
        expect(Map.of("imageFeatures", "layering,object-map"), Optional.of("rbd"), ONE, "object-map needs exclusive-lock");
        expect(Map.of("imageFeatures", "layering,data-pool"), Optional.of("rbd"), ONE, "cannot be requested");
        expect(Map.of("imageFeatures", "layering,turbo"), Optional.of("rbd"), ONE, "turbo");
        expect(Map.of("mounter", "nbd"), Optional.of("rbd"), ONE, "krbd or fuse");
        expect(Map.of("fsType", "btrfs"), Optional.of("rbd"), ONE, "ext4 or xfs");
        expect(Map.of("pool", "other"), Optional.of("rbd"), ONE, "differ");
        expect(Map.of("dataPool", "a/b"), Optional.of("rbd"), ONE, "dataPool");
    }

    private static void expect(Map<String, String> params, Optional<String> pool, RbdConfig c, String message) {
        assertThatThrownBy(() -> VolumeParams.parse(params, pool, c)).isInstanceOf(StorageException.InvalidArgument.class)
                .hasMessageContaining(message);
    }
}
