package dev.nodekit.csi.rbd.ceph;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Base64;

import org.junit.jupiter.api.Test;

class CephCredentialsTest {
    /** A well-formed cephx key (type 1, 16-byte secret), as 'ceph auth get-key' prints one. */
    static final String KEY = "AQCRVgdrUxArKBAA6MoykY55tvcPzAcsVXmhsQ==";

    @Test
    void normalisesUserAndKey() {
        CephCredentials c = new CephCredentials("client.csi", "  " + KEY + "\n");
        assertThat(c.userId()).isEqualTo("csi");
        assertThat(c.entityName()).isEqualTo("client.csi");
        assertThat(c.key()).isEqualTo(KEY);
    }

    @Test
    void toStringRedactsTheKey() {
        CephCredentials c = new CephCredentials("csi", KEY);
        assertThat(c.toString()).isEqualTo("CephCredentials[userId=csi, key=<redacted>]").doesNotContain(KEY);
        assertThat(RadosConfig.of("v2:10.0.0.1:3300", c).toString()).doesNotContain(KEY).contains("<redacted>");
    }

    @Test
    void rejectsBadUserIds() {
        for (String bad : new String[] {"", "client.", "csi user", "a/b", "x".repeat(129)}) {
            assertThatThrownBy(() -> new CephCredentials(bad, KEY)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void rejectsMalformedKeysWithoutQuotingThem() {
        String notBase64 = "this is not a key!";
        String tooShort = Base64.getEncoder().encodeToString(new byte[] {1, 0, 2, 3});
        String badLength = Base64.getEncoder().encodeToString(new byte[] {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 1, 2});
        for (String bad : new String[] {"", notBase64, tooShort, badLength}) {
            assertThatThrownBy(() -> new CephCredentials("csi", bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("user 'csi'")
                    .satisfies(e -> {
                        if (!bad.isEmpty()) {
                            assertThat(e.getMessage()).doesNotContain(bad);
                        }
                    });
        }
    }
}
