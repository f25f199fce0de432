package dev.nodekit.common.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

class VersionedFormatTest {
    @TempDir
    Path dir;

    /** Version 3 of a small state record. */
    record VolumeState(String id, long capacityBytes, List<String> snapshots) {
    }

    /** v1 had "size"; v2 renamed it to capacityBytes; v3 added snapshots. */
    static final VersionedFormat STATE = VersionedFormat.builder("volume state", 3)
            .migration(1, n -> n.set("capacityBytes", n.remove("size")))
            .migration(2, n -> {
                n.putArray("snapshots");
                return n;
            })
            .build();

    @Test
    void writesTheVersionFirstAndReadsItBackAfterReopening() throws Exception {
        Path f = dir.resolve("vol.json");
        STATE.write(f, new VolumeState("v-1", 1024, List.of("s1")));
        String text = Files.readString(f);
        assertThat(text).startsWith("{\n  \"version\" : 3,").endsWith("}\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
        VersionedFormat reopened = VersionedFormat.builder("volume state", 3)
                .migration(1, n -> n).migration(2, n -> n).build();
        assertThat(reopened.read(f, VolumeState.class)).isEqualTo(new VolumeState("v-1", 1024, List.of("s1")));
    }

    @Test
    void refusesNewerVersionsWithAnUpgradeMessage() {
        String v4 = "{\"version\": 4, \"id\": \"v\"}";
        assertThatThrownBy(() -> STATE.parse("/var/lib/nodekit/vol.json", v4.getBytes(), VolumeState.class))
                .isInstanceOfSatisfying(FormatVersionException.class, e -> {
                    assertThat(e).hasMessage("/var/lib/nodekit/vol.json: format version 4 is newer than this nodekit"
                            + " understands (max 3); upgrade nodekit");
                    assertThat(e.foundVersion()).hasValue(4);
                    assertThat(e.source()).isEqualTo("/var/lib/nodekit/vol.json");
                });
    }

    @Test
    void migratesOlderVersionsThroughEveryStep() throws Exception {
        String v1 = "{\"version\": 1, \"id\": \"v-1\", \"size\": 2048}";
        assertThat(STATE.parse("f", v1.getBytes(), VolumeState.class))
                .isEqualTo(new VolumeState("v-1", 2048, List.of()));
        String v2 = "{\"version\": 2, \"id\": \"v-2\", \"capacityBytes\": 7}";
        assertThat(STATE.parse("f", v2.getBytes(), VolumeState.class)).isEqualTo(new VolumeState("v-2", 7, List.of()));
    }

    @Test
    void upgradeWorksOnACopyAndStampsEachStep() throws Exception {
        ObjectNode v1 = (ObjectNode) STATE.mapper().readTree("{\"version\": 1, \"id\": \"x\", \"size\": 1}");
        ObjectNode up = STATE.upgrade("f", v1);
        assertThat(up.get("version").intValue()).isEqualTo(3);
        assertThat(up.has("snapshots")).isTrue();
        assertThat(v1.get("version").intValue()).isEqualTo(1);
        assertThat(v1.has("size")).isTrue();
    }

    @Test
    void refusesVersionsOlderThanTheMigrationsReach() {
        assertThatThrownBy(() -> STATE.parse("f", "{\"version\": 0}".getBytes(), VolumeState.class))
                .isInstanceOf(FormatVersionException.class)
                .hasMessage("f: format version 0 is older than this nodekit can migrate (oldest 1)");
        assertThat(STATE.oldestVersion()).isEqualTo(1);
    }

    @Test
    void missingOrMalformedVersion() {
        assertThatThrownBy(() -> STATE.parse("f", "{\"id\": \"x\"}".getBytes(), VolumeState.class))
                .hasMessage("f: no 'version' field; not a volume state file?");
        assertThatThrownBy(() -> STATE.parse("f", "{\"version\": \"2\"}".getBytes(), VolumeState.class))
                .hasMessageContaining("'version' must be a non-negative integer");
        assertThatThrownBy(() -> STATE.parse("f", "{\"version\": 2.5}".getBytes(), VolumeState.class))
                .hasMessageContaining("'version' must be a non-negative integer");
        assertThatThrownBy(() -> STATE.parse("f", "[1]".getBytes(), VolumeState.class))
                .hasMessageContaining("expected a JSON object");
        assertThatThrownBy(() -> STATE.parse("f", "".getBytes(), VolumeState.class)).hasMessage("f: empty file");
        assertThatThrownBy(() -> STATE.parse("f", "{\"version\": ".getBytes(), VolumeState.class))
                .hasMessageStartingWith("f: not valid JSON");
    }

    @Test
    void customVersionFieldAndVersionWhenMissing() throws Exception {
        VersionedFormat f = VersionedFormat.builder("ipam", 2).versionField("formatVersion").versionWhenMissing(1)
                .migration(1, n -> n.put("ranges", 1)).build();
        record Ipam(int ranges) {
        }
        assertThat(f.parse("f", "{}".getBytes(), Ipam.class)).isEqualTo(new Ipam(1));
        assertThat(new String(f.toBytes(new Ipam(5)))).contains("\"formatVersion\" : 2");
    }

    @Test
    void failingMigrationNamesTheStep() {
        VersionedFormat f = VersionedFormat.builder("x", 2).migration(1, n -> {
            throw new IllegalStateException("field 'a' missing");
        }).build();
        assertThatThrownBy(() -> f.parse("state.json", "{\"version\":1}".getBytes(), Object.class))
                .isInstanceOf(FormatVersionException.class)
                .hasMessage("state.json: migrating x from v1 to v2 failed: field 'a' missing");
    }

    @Test
    void unknownFieldsAfterMigrationAreErrors() {
        String v3 = "{\"version\": 3, \"id\": \"v\", \"capacityBytes\": 1, \"snapshots\": [], \"extra\": true}";
        assertThatThrownBy(() -> STATE.parse("f", v3.getBytes(), VolumeState.class)).isInstanceOf(IOException.class)
                .isNotInstanceOf(FormatVersionException.class).hasMessageContaining("f: cannot read volume state v3")
                .hasMessageContaining("extra");
    }

    @Test
    void theFormatOwnsTheVersionField() {
        record Bad(int version) {
        }
        assertThatThrownBy(() -> STATE.toBytes(new Bad(1))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("owns that field");
        assertThatThrownBy(() -> STATE.toBytes(List.of(1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void builderRejectsBrokenMigrationChains() {
        assertThatThrownBy(() -> VersionedFormat.builder("x", 3).migration(1, n -> n).build())
                .hasMessageContaining("contiguous");
        assertThatThrownBy(() -> VersionedFormat.builder("x", 3).migration(2, n -> n).migration(2, n -> n))
                .hasMessageContaining("twice");
        assertThatThrownBy(() -> VersionedFormat.builder("x", 3).migration(3, n -> n)).hasMessageContaining("outside");
        assertThatThrownBy(() -> VersionedFormat.builder("x", 0)).hasMessageContaining(">= 1");
        assertThat(VersionedFormat.builder("x", 3).build().oldestVersion()).isEqualTo(3);
    }
}
