package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

class RadosConfigTest {
    private static final CephCredentials CREDS = new CephCredentials("csi", CephCredentialsTest.KEY);

    @Test
    void defaultsAndTimeouts() {
        RadosConfig c = RadosConfig.of(" [v2:10.0.0.1:3300,v1:10.0.0.1:6789] ", CREDS);
        assertThat(c.monitors()).isEqualTo("[v2:10.0.0.1:3300,v1:10.0.0.1:6789]");
        assertThat(c.connectTimeout()).isEqualTo(RadosConfig.DEFAULT_CONNECT_TIMEOUT);
        assertThat(c.osdOpTimeout()).isEqualTo(RadosConfig.DEFAULT_OP_TIMEOUT);
        RadosConfig t = c.withTimeouts(Duration.ofSeconds(3), Duration.ofMillis(2500));
        assertThat(t.connectTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(t.osdOpTimeout()).isEqualTo(t.monOpTimeout()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void secondsRoundUpBecauseCephTakesWholeSeconds() {
        assertThat(RadosConfig.seconds(Duration.ofSeconds(3))).isEqualTo(3);
        assertThat(RadosConfig.seconds(Duration.ofMillis(2500))).isEqualTo(3);
        assertThat(RadosConfig.seconds(Duration.ofMillis(1001))).isEqualTo(2);
    }

    @Test
    void rejectsBadMonitorsAndTimeouts() {
        for (String bad : new String[] {"", "   ", "10.0.0.1 10.0.0.2", "mon\n1"}) {
            assertThatThrownBy(() -> RadosConfig.of(bad, CREDS)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        RadosConfig c = RadosConfig.of("v2:10.0.0.1:3300", CREDS);
        assertThatThrownBy(() -> c.withTimeouts(Duration.ZERO, Duration.ofSeconds(1)))
                .hasMessageContaining("connectTimeout").hasMessageContaining("no timeout");
        assertThatThrownBy(() -> c.withTimeouts(Duration.ofSeconds(1), Duration.ofHours(2)))
                .hasMessageContaining("osdOpTimeout");
    }
}
