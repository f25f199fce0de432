package dev.nodekit.csi.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.fs.FormatVersionException;
import dev.nodekit.csi.local.JournalRecord.State;
import dev.nodekit.csi.spi.ContentSource;
import dev.nodekit.csi.spi.ObjectId;

class JournalRecordTest {
    private static final ObjectId IMAGE = ObjectId.newVolume("local", "node-a", "default");
    private static final ObjectId SNAPSHOT = ObjectId.newSnapshot("local", "node-a", "default");

    private static JournalRecord image(String sourceId) {
        return new JournalRecord(RecordKind.IMAGE, IMAGE.encode(), "pvc-1", State.READY, 8, 4, sourceId,
                Map.of("pool", "default"), Map.of("fsType", "ext4"), "2026-01-02T03:04:05Z", "empty");
    }

    @Test
    void roundTripsWithItsVersion() throws Exception {
        JournalRecord r = image(SNAPSHOT.encode());
        byte[] json = JournalRecord.FORMAT.toBytes(r);
        assertThat(new String(json, StandardCharsets.UTF_8)).startsWith("{\n  \"version\" : 2,");
        assertThat(JournalRecord.FORMAT.parse("r.json", json, JournalRecord.class)).isEqualTo(r);
        assertThat(r.contentSource()).contains(new ContentSource.FromSnapshot(SNAPSHOT));
        assertThat(image(IMAGE.encode()).contentSource()).contains(new ContentSource.FromImage(IMAGE));
        assertThat(image(null).contentSource()).isEmpty();
        assertThat(r.uuid()).isEqualTo(IMAGE.uuid());
        assertThat(r.pool()).isEqualTo("default");
        assertThat(JournalRecord.sourceIdOf(Optional.of(new ContentSource.FromImage(IMAGE)))).isEqualTo(IMAGE.encode());
    }

    @Test
    void refusesRecordsThatCannotBeRight() {
        assertThatThrownBy(() -> new JournalRecord(RecordKind.IMAGE, SNAPSHOT.encode(), "n", State.READY, 1, 1, null,
                Map.of(), Map.of(), "2026-01-02T03:04:05Z", null)).hasMessageContaining("journal record");
        assertThatThrownBy(() -> new JournalRecord(RecordKind.SNAPSHOT, SNAPSHOT.encode(), "n", State.READY, 1, 1,
                null, Map.of(), Map.of(), "2026-01-02T03:04:05Z", null)).hasMessageContaining("has no source");
        assertThatThrownBy(() -> new JournalRecord(RecordKind.SNAPSHOT, SNAPSHOT.encode(), "n", State.READY, 1, 1,
                SNAPSHOT.encode(), Map.of(), Map.of(), "2026-01-02T03:04:05Z", null))
                .hasMessageContaining("source must be an image");
        assertThatThrownBy(() -> new JournalRecord(RecordKind.IMAGE, IMAGE.encode(), "", State.READY, 1, 1, null,
                Map.of(), Map.of(), "2026-01-02T03:04:05Z", null)).hasMessageContaining("name");
        assertThatThrownBy(() -> new JournalRecord(RecordKind.IMAGE, IMAGE.encode(), "n", State.READY, 0, 1, null,
                Map.of(), Map.of(), "2026-01-02T03:04:05Z", null)).hasMessageContaining("positive");
        assertThatThrownBy(() -> new JournalRecord(RecordKind.IMAGE, IMAGE.encode(), "n", State.READY, 1, 1, null,
                Map.of(), Map.of(), "yesterday", null)).isInstanceOf(RuntimeException.class);
        ObjectId dashed = new ObjectId(ObjectId.Kind.VOLUME, "local", "n", "_ok", IMAGE.uuid());
        new JournalRecord(RecordKind.IMAGE, dashed.encode(), "n", State.READY, 1, 1, null, Map.of(), Map.of(),
                "2026-01-02T03:04:05Z", null);
    }

    @Test
    void readsFailLoudlyOnDamage() {
        String ok = new String(toBytes(image(null)), StandardCharsets.UTF_8);
        assertThatThrownBy(() -> parse(ok.replace("\"READY\"", "\"HALF\""))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> parse(ok.replace("\"name\"", "\"nom\""))).isInstanceOf(IOException.class);
        assertThatThrownBy(() -> parse(ok.replace("\"version\" : 2", "\"version\" : 9")))
                .isInstanceOf(FormatVersionException.class).hasMessageContaining("upgrade nodekit");
        assertThatThrownBy(() -> parse(ok.replace("\"version\" : 2,", ""))).isInstanceOf(FormatVersionException.class);
        assertThatThrownBy(() -> parse(ok.substring(0, ok.length() / 2))).isInstanceOf(IOException.class);
    }

    @Test
    void migratesVersion1() throws Exception {
        String v1 = "{\"version\":1,\"kind\":\"IMAGE\",\"id\":\"" + IMAGE.encode() + "\",\"name\":\"pvc-1\","
                + "\"state\":\"READY\",\"sizeBytes\":8,\"sourceId\":null,\"parameters\":{},\"metadata\":{},"
                + "\"created\":\"2026-01-02T03:04:05Z\"}";
        JournalRecord r = parse(v1);
        assertThat(r.requestedBytes()).isEqualTo(8);
        assertThat(r.copyMethod()).isNull();
    }

    private static byte[] toBytes(JournalRecord r) {
        try {
            return JournalRecord.FORMAT.toBytes(r);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JournalRecord parse(String json) throws IOException {
        return JournalRecord.FORMAT.parse("r.json", json.getBytes(StandardCharsets.UTF_8), JournalRecord.class);
    }
}
