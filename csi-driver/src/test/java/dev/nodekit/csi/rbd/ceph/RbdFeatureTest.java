package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class RbdFeatureTest {

    @Test
    void parsesStorageClassLists() {
        assertThat(RbdFeature.parseList("layering")).containsExactly(RbdFeature.LAYERING);
        assertThat(RbdFeature.parseList(" layering, exclusive-lock ,OBJECT_MAP,"))
                .containsExactlyInAnyOrder(RbdFeature.LAYERING, RbdFeature.EXCLUSIVE_LOCK, RbdFeature.OBJECT_MAP);
        assertThat(RbdFeature.parseList("")).isEmpty();
        assertThatThrownBy(() -> RbdFeature.parseList("layering,bogus"))
                .hasMessageContaining("'bogus'").hasMessageContaining("exclusive-lock");
    }

    @Test
    void masksMatchLibrbdBits() {
        // rbd_default_features in Pacific: layering, exclusive-lock, object-map, fast-diff, deep-flatten = 61
        Set<RbdFeature> defaults = EnumSet.of(RbdFeature.LAYERING, RbdFeature.EXCLUSIVE_LOCK, RbdFeature.OBJECT_MAP,
                RbdFeature.FAST_DIFF, RbdFeature.DEEP_FLATTEN);
        assertThat(RbdFeature.mask(defaults)).isEqualTo(61);
        assertThat(RbdFeature.fromMask(61)).isEqualTo(defaults);
        assertThat(RbdFeature.fromMask(1L << 40 | 1)).containsExactly(RbdFeature.LAYERING);
        for (RbdFeature f : RbdFeature.values()) {
            assertThat(RbdFeature.byName(f.cliName())).isEqualTo(f);
        }
    }
}
