package dev.nodekit.conformance.csi;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

/** mountinfo parsing: fields, optional fields, octal escapes, stacked mounts, read-only. */
class MountTableTest {
    private static final List<String> LINES = List.of(
            "22 1 253:1 / / rw,relatime shared:1 - ext4 /dev/vda rw",
            "40 22 0:35 / /tmp/my\\040dir rw,nosuid shared:20 master:3 - tmpfs tmpfs rw,size=1024k",
            "41 40 0:35 / /tmp/my\\040dir/target ro,relatime shared:20 - tmpfs tmpfs rw",
            "42 40 0:35 / /tmp/my\\040dir/target ro,relatime shared:20 - tmpfs tmpfs rw",
            "43 22 7:3 / /tmp/blk rw - ext4 /dev/loop3 rw",
            "garbage line");

    @Test
    void parsesMountPointsOptionsAndEscapes() {
        MountTable t = MountTable.parse(LINES);
        assertThat(t.isMountPoint(Path.of("/tmp/my dir"))).isTrue();
        assertThat(t.at(Path.of("/tmp/my dir/target"))).hasSize(2).allMatch(MountTable.Entry::readOnly);
        assertThat(t.under(Path.of("/tmp/my dir"))).hasSize(3);
        assertThat(t.top(Path.of("/tmp/blk")).orElseThrow().source()).isEqualTo("/dev/loop3");
        assertThat(t.top(Path.of("/tmp/blk")).orElseThrow().readOnly()).isFalse();
        assertThat(t.isMountPoint(Path.of("/tmp/nothing"))).isFalse();
    }

    @Test
    void unescapesOctal() {
        assertThat(MountTable.unescape("a\\040b\\011c\\134d")).isEqualTo("a b\tc\\d");
        assertThat(MountTable.unescape("no\\escape")).isEqualTo("no\\escape");
    }

    @Test
    void canonicalResolvesTheExistingPartOfAPath() {
        assertThat(NodeIo.canonical(Path.of("/tmp/../tmp/does-not-exist/x"))).isEqualTo(
                NodeIo.canonical(Path.of("/tmp")).resolve("does-not-exist/x"));
    }
}
