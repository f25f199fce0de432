package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class OmapPageTest {

    @Test
    void keepsOrderAndIsUnmodifiable() {
        Map<String, byte[]> m = new LinkedHashMap<>();
        m.put("a", "1".getBytes());
        m.put("b", "2".getBytes());
        OmapPage p = new OmapPage(m, true);
        m.put("c", new byte[0]);
        assertThat(p.entries().keySet()).containsExactly("a", "b");
        assertThat(p.lastKey()).isEqualTo("b");
        assertThat(p.strings()).containsExactly(Map.entry("a", "1"), Map.entry("b", "2"));
        assertThat(new OmapPage(Map.of(), false).lastKey()).isEmpty();
        assertThatThrownBy(() -> p.entries().put("x", new byte[0])).isInstanceOf(UnsupportedOperationException.class);
    }
}
