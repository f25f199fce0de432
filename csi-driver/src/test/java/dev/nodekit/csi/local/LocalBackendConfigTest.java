package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocalBackendConfigTest {
    private static final Path DIR = Path.of("/var/lib/nodekit/csi");

    @Test
    void defaults() {
        LocalBackendConfig c = LocalBackendConfig.of(DIR, "node-a");
        assertThat(c.pools()).containsExactly("default");
        assertThat(c.defaultPool()).isEqualTo("default");
        assertThat(c.capacityLimitBytes()).isZero();
        assertThat(c.reflink()).isTrue();
        assertThat(c.reattachOnStart()).isTrue();
        assertThat(c.withCapacityLimit(5).withMaxImageBytes(6).withLockWait(Duration.ZERO).withReflink(false)
                .withReattachOnStart(false).withSyncWrites(false)).isEqualTo(new LocalBackendConfig(DIR, "node-a",
                        Set.of("default"), "default", 5, 6, Duration.ZERO, false, false, false));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "node/a", "node a", "n\u0000", "x12345678901234567890123456789012345678901"})
    void rejectsNodeIdsThatCannotBePartOfAnId(String nodeId) {
        assertThatThrownBy(() -> LocalBackendConfig.of(DIR, nodeId)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("nodeId");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", ".hidden", "a/b", "a-b", "x1234567890123456789012345", "\u00e9"})
    void rejectsPoolNamesThatCannotBeDirectoriesOrIdParts(String pool) {
        assertThat(Layout.validPool(pool)).isFalse();
        assertThatThrownBy(() -> LocalBackendConfig.of(DIR, "n").withPools(pool, Set.of(pool)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("pool name");
    }

    @Test
    void acceptsTheWidestValidNames() {
        assertThat(Layout.validPool("fast_ssd.v2")).isTrue();
        assertThat(Layout.validPool("x".repeat(24))).isTrue();
        LocalBackendConfig.of(DIR, "ip-10-0-0-1.ec2.internal");
    }

    @Test
    void rejectsInconsistentSettings() {
        LocalBackendConfig c = LocalBackendConfig.of(DIR, "n");
        assertThatThrownBy(() -> c.withPools("other", Set.of("default"))).hasMessageContaining("default pool 'other'");
        assertThatThrownBy(() -> c.withPools("default", Set.of())).hasMessageContaining("at least one pool");
        assertThatThrownBy(() -> c.withCapacityLimit(-1)).hasMessageContaining("capacityLimitBytes");
        assertThatThrownBy(() -> c.withMaxImageBytes(-1)).hasMessageContaining("maxImageBytes");
        assertThatThrownBy(() -> c.withLockWait(Duration.ofHours(1))).hasMessageContaining("lockWait");
    }

    @Test
    void layoutPathsStayInsideTheDataDir() {
        Layout l = new Layout(DIR);
        assertThatThrownBy(() -> l.pool("../../etc")).isInstanceOf(IllegalArgumentException.class);
        assertThat(l.data(RecordKind.IMAGE, "default", java.util.UUID.fromString("0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b")))
                .isEqualTo(DIR.resolve("pools/default/images/0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b.img"));
        assertThatThrownBy(() -> new Layout(Path.of("relative"))).isInstanceOf(IllegalArgumentException.class);
    }
}
