package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.EnumSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class ImageOptionsTest {

    @Test
    void defaultsAreEmptyAndWithersCompose() {
        assertThat(ImageOptions.defaults().features()).isEmpty();
        ImageOptions o = ImageOptions.defaults().withFeatures(EnumSet.of(RbdFeature.LAYERING)).withOrder(22)
                .withDataPool("ec-data");
        assertThat(o.features()).hasValue(Set.of(RbdFeature.LAYERING));
        assertThat(o.order()).hasValue(22);
        assertThat(o.dataPool()).hasValue("ec-data");
    }

    @Test
    void copiesTheFeatureSet() {
        Set<RbdFeature> f = EnumSet.of(RbdFeature.LAYERING);
        ImageOptions o = ImageOptions.defaults().withFeatures(f);
        f.add(RbdFeature.JOURNALING);
        assertThat(o.features()).hasValue(Set.of(RbdFeature.LAYERING));
    }

    @Test
    void validates() {
        assertThatThrownBy(() -> ImageOptions.defaults().withOrder(11)).hasMessageContaining("between 12 and 25");
        assertThatThrownBy(() -> ImageOptions.defaults().withOrder(26)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> ImageOptions.defaults().withDataPool("")).isInstanceOf(IllegalArgumentException.class);
    }
}
