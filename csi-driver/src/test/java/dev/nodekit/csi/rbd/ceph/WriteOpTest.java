package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class WriteOpTest {

    @Test
    void isImmutable() {
        WriteOp empty = WriteOp.empty();
        WriteOp reserve = empty.createExclusive();
        WriteOp full = reserve.omapSetStrings(Map.of("k", "v"));
        assertThat(empty.isEmpty()).isTrue();
        assertThat(reserve.steps()).hasSize(1);
        assertThat(full.steps()).hasSize(2);
        assertThat(full.steps().get(0)).isEqualTo(new WriteOp.Create(true));
    }

    @Test
    void copiesValuesSoLaterChangesDoNotLeakIn() {
        byte[] value = {1, 2, 3};
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("k", value);
        WriteOp op = WriteOp.empty().omapSet(entries);
        value[0] = 9;
        entries.put("other", new byte[0]);
        WriteOp.OmapSet set = (WriteOp.OmapSet) op.steps().get(0);
        assertThat(set.entries()).containsOnlyKeys("k");
        assertThat(set.entries().get("k")).containsExactly(1, 2, 3);
    }

    @Test
    void describesStepsWithoutValues() {
        WriteOp op = WriteOp.empty().createIfMissing().assertExists().omapSetStrings(Map.of("csi.volname", "secret-ish"))
                .omapRemove(List.of("old")).remove();
        assertThat(op.toString()).isEqualTo("WriteOp[create, assert-exists, omap-set[csi.volname], omap-rm[old], remove]")
                .doesNotContain("secret-ish");
    }

    @Test
    void rejectsEmptyAndNullParts() {
        assertThatThrownBy(() -> WriteOp.empty().omapSet(Map.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> WriteOp.empty().omapRemove(List.of())).isInstanceOf(IllegalArgumentException.class);
        Map<String, byte[]> nullValue = new LinkedHashMap<>();
        nullValue.put("k", null);
        assertThatThrownBy(() -> WriteOp.empty().omapSet(nullValue)).isInstanceOf(NullPointerException.class)
                .hasMessageContaining("k");
    }
}
