package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import org.junit.jupiter.api.Test;

class JournalEntriesTest {
    private static final UUID U = UUID.fromString("3f2a0c2b-71de-4e1a-9c61-0b5b0e7a1c11");
    private static final Instant T = Instant.parse("2026-11-25T10:00:00Z");

    @Test
    void volumeRecordsRoundTripInTheCurrentVersion() throws Exception {
        JournalEntries.Volume v = new JournalEntries.Volume(U, "pvc-1", "csi-vol-" + U, "rbd", 3, 1 << 30, 1 << 29,
                Optional.of("s1-rbd-0001-a-0000000000000003-" + U), Map.of("pool", "rbd", "imageFeatures", "layering"),
                Map.of("fs", "ext4"), T, false);
        Map<String, String> f = v.fields();
        assertThat(f).containsEntry("csi.version", "2").containsEntry("csi.volname", "pvc-1")
                .containsEntry("csi.imagename", "csi-vol-" + U).containsEntry("csi.state", "reserved")
                .containsEntry("csi.poolid", "3").containsEntry("csi.parameters", "{\"imageFeatures\":\"layering\",\"pool\":\"rbd\"}");
        assertThat(JournalEntries.Volume.decode(U, f)).isEqualTo(v);
        assertThat(JournalEntries.Volume.decode(U, v.asReady().fields()).ready()).isTrue();
    }

    @Test
    void snapshotRecordsRoundTrip() throws Exception {
        JournalEntries.Snapshot s = new JournalEntries.Snapshot(U, "snap-1", "csi-snap-" + U,
                "v1-rbd-0001-a-0000000000000003-" + U, 3, 1 << 30, Map.of(), T, true);
        assertThat(JournalEntries.Snapshot.decode(U, s.fields())).isEqualTo(s);
    }

    @Test
    void version1IsMigratedAndNewerVersionsAreRefused() throws Exception {
        Map<String, String> v1 = new HashMap<>(new JournalEntries.Volume(U, "pvc-1", "csi-vol-" + U, "rbd", 3, 1 << 30,
                1 << 30, Optional.empty(), Map.of(), Map.of(), T, true).fields());
        v1.put("csi.version", "1");
        v1.remove("csi.requestedsize");
        v1.put("csi.size", Long.toString(2L << 30)); // a v1 record that was resized once
        JournalEntries.Volume migrated = JournalEntries.Volume.decode(U, v1);
        assertThat(migrated.requestedBytes()).isEqualTo(2L << 30);
        assertThat(migrated.sizeBytes()).isEqualTo(2L << 30);

        Map<String, String> v3 = new HashMap<>(v1);
        v3.put("csi.version", "3");
        assertThatThrownBy(() -> JournalEntries.Volume.decode(U, v3))
                .hasMessageContaining("version 3").hasMessageContaining("upgrade nodekit");
        Map<String, String> foreign = new HashMap<>(v1);
        foreign.remove("csi.version");
        assertThatThrownBy(() -> JournalEntries.Volume.decode(U, foreign)).hasMessageContaining("not written by nodekit");
        Map<String, String> broken = new HashMap<>(new JournalEntries.Volume(U, "n", "i", "p", 1, 1, 1, Optional.empty(),
                Map.of(), Map.of(), T, true).fields());
        broken.put("csi.state", "half");
        assertThatThrownBy(() -> JournalEntries.Volume.decode(U, broken)).hasMessageContaining("unknown state");
        broken.put("csi.state", "ready");
        broken.put("csi.size", "-1");
        assertThatThrownBy(() -> JournalEntries.Volume.decode(U, broken)).hasMessageContaining("csi.size");
    }

    @Test
    void pageTokensRoundTripAndForeignTextIsAnInvalidToken() throws Exception {
        PageToken t = new PageToken("ceph-a", 7, "csi.volume.pvc with spaces/é");
        assertThat(PageToken.decode(t.encode())).isEqualTo(t);
        for (String bad : new String[] {"not-a-token-we-handed-out", "", "%%%", java.util.Base64.getUrlEncoder()
                .encodeToString("2\na\n1\nk".getBytes()), java.util.Base64.getUrlEncoder().encodeToString("1\na\nx\nk".getBytes())}) {
            assertThatThrownBy(() -> PageToken.decode(bad))
                    .isInstanceOf(dev.nodekit.csi.spi.StorageException.InvalidToken.class);
        }
    }
}
