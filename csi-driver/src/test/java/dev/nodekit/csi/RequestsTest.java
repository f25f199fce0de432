package dev.nodekit.csi;

import static dev.nodekit.csi.Statuses.expect;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.nodekit.csi.spi.ObjectId;
import dev.nodekit.spec.csi.v1.CapacityRange;
import io.grpc.Status.Code;

class RequestsTest {
    @Test
    void pathsMustBeAbsoluteAndPlain() {
        assertThat(Requests.absolutePath("/var/lib/kubelet/pods/x/mount", "target_path"))
                .isEqualTo(Path.of("/var/lib/kubelet/pods/x/mount"));
        assertThat(Requests.absolutePath("/a//b/", "p")).isEqualTo(Path.of("/a/b"));
        assertThat(Requests.absolutePath("/" + "d/".repeat(100) + "x", "p").getNameCount()).isEqualTo(101);
        for (String bad : new String[] {"", "a/b", "/a/../b", "/a/./b", "/..", "/", "/a\0b", "/" + "x".repeat(4096)}) {
            assertThat(expect(Code.INVALID_ARGUMENT, () -> Requests.absolutePath(bad, "staging_target_path")))
                    .contains("staging_target_path");
        }
    }

    @Test
    void idsThatCannotExistAreNotFoundUnlessEmptyOrTooLong() {
        ObjectId id = ObjectId.newVolume("local", "node-a", "default");
        assertThat(Requests.existingId(id.encode(), ObjectId.Kind.VOLUME, "volume_id")).isEqualTo(id);
        expect(Code.INVALID_ARGUMENT, () -> Requests.existingId("", ObjectId.Kind.VOLUME, "volume_id"));
        expect(Code.INVALID_ARGUMENT, () -> Requests.existingId("v".repeat(129), ObjectId.Kind.VOLUME, "volume_id"));
        for (String bad : new String[] {"../../etc/shadow", "v1-local-0006-node-a-default-../x", "id\0", "s1-x",
                id.encode().replace("v1-", "v2-")}) {
            assertThat(expect(Code.NOT_FOUND, () -> Requests.existingId(bad, ObjectId.Kind.VOLUME, "volume_id")))
                    .doesNotContain("\0");
            assertThat(Requests.idOrAbsent(bad, ObjectId.Kind.VOLUME, "volume_id")).isEmpty();
        }
        assertThat(Requests.existingId(id.encode(), ObjectId.Kind.VOLUME, "x")).isEqualTo(id);
        expect(Code.NOT_FOUND, () -> Requests.existingId(id.encode(), ObjectId.Kind.SNAPSHOT, "snapshot_id"));
    }

    @Test
    void mapLimitCountsKeysAndValues() {
        Requests.mapSize(Map.of("k".repeat(2048), "v".repeat(2048)), "parameters");
        expect(Code.INVALID_ARGUMENT, () -> Requests.mapSize(Map.of("k".repeat(2048), "v".repeat(2049)), "parameters"));
    }

    @Test
    void sizes() {
        long mib = Sizes.MIB;
        assertThat(Sizes.forCreate(CapacityRange.getDefaultInstance(), 0, 0, 0, 0)).isEqualTo(Sizes.GIB);
        assertThat(Sizes.forCreate(CapacityRange.newBuilder().setRequiredBytes(1).build(), 0, 0, 0, 0)).isEqualTo(mib);
        assertThat(Sizes.forCreate(CapacityRange.newBuilder().setLimitBytes(mib + 5).build(), 0, 0, 0, 0)).isEqualTo(mib);
        // A range that holds no whole MiB is refused rather than rounded past its limit.
        expect(Code.OUT_OF_RANGE, () -> Sizes.forCreate(CapacityRange.newBuilder().setRequiredBytes(mib + 1)
                .setLimitBytes(2 * mib - 1).build(), 0, 0, 0, 0));
        assertThat(Sizes.forCreate(CapacityRange.getDefaultInstance(), 3 * mib, 0, 0, 0)).isEqualTo(3 * mib);
        assertThat(Sizes.forExpand(CapacityRange.newBuilder().setRequiredBytes(mib).build(), 2 * mib, 0)).isEqualTo(2 * mib);
        assertThat(Sizes.forExpand(CapacityRange.newBuilder().setRequiredBytes(3 * mib + 1).setLimitBytes(3 * mib + 512)
                .build(), 2 * mib, 0)).isEqualTo(3 * mib + 512);
        expect(Code.OUT_OF_RANGE, () -> Sizes.forExpand(CapacityRange.newBuilder().setRequiredBytes(3 * mib + 1)
                .setLimitBytes(3 * mib + 100).build(), 2 * mib, 0));
        expect(Code.OUT_OF_RANGE, () -> Sizes.forCreate(CapacityRange.newBuilder().setRequiredBytes(Long.MAX_VALUE)
                .build(), 0, 0, 0, 0));
    }
}
