package dev.nodekit.csi.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.UUID;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ObjectIdTest {
    @Test
    void roundTripsAndStaysWithin128Bytes() throws Exception {
        ObjectId id = new ObjectId(ObjectId.Kind.VOLUME, "abcdefgh", "c".repeat(40), "p".repeat(24), UUID.randomUUID());
        String text = id.encode();
        assertThat(text.length()).isLessThanOrEqualTo(ObjectId.MAX_BYTES);
        assertThat(ObjectId.parse(text, ObjectId.Kind.VOLUME)).isEqualTo(id);
    }

    @Test
    void clusterMayContainDashes() throws Exception {
        ObjectId id = ObjectId.newSnapshot("rbd", "3f1c-22-aa", "0000000000000002");
        assertThat(ObjectId.parse(id.encode(), ObjectId.Kind.SNAPSHOT)).isEqualTo(id);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "v1-local-0004-node-pool-../../etc", "v1-local-0004-../-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
            "v2-local-0004-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
            "s1-local-0004-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
            "v1-local-0005-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
            "v1-local-0004-node-po/ol-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
            "v1-local-0004-node-pool-0C5F8E5E-2F7C-4B2D-9A8F-1C2D3E4F5A6B",
            "v1-local-0004-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b\u0000",
            "v1-LOCAL-0004-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b"})
    void rejectsMalformedIds(String text) {
        assertThatThrownBy(() -> ObjectId.parse(text, ObjectId.Kind.VOLUME)).isInstanceOf(InvalidIdException.class)
                .hasMessageStartingWith("volume id");
    }

    @Test
    void refusesNewerVersionWithAClearMessage() {
        assertThatThrownBy(() -> ObjectId.parse("v2-local-0004-node-pool-0c5f8e5e-2f7c-4b2d-9a8f-1c2d3e4f5a6b",
                ObjectId.Kind.VOLUME)).hasMessageContaining("format version '2'").hasMessageContaining("upgrade");
    }

    @Test
    void rejectsOverlongInputWithoutEchoingAllOfIt() {
        String text = "v1-" + "x".repeat(500);
        assertThatThrownBy(() -> ObjectId.parse(text, ObjectId.Kind.VOLUME))
                .hasMessageContaining("longer than 128 bytes")
                .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(200));
    }

    @Test
    void credentialsNeverPrintValues() {
        Credentials c = Credentials.of(java.util.Map.of("userKey", "AQD-secret", "userID", "csi"));
        assertThat(c.toString()).doesNotContain("AQD-secret").doesNotContain("csi]").contains("userKey");
    }
}
