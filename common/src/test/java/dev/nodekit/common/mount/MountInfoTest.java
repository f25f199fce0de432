package dev.nodekit.common.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

class MountInfoTest {

    @Test
    void parsesTheProc5Example() {
        MountInfo m = MountInfo.parse("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue");
        assertThat(m.mountId()).isEqualTo(36);
        assertThat(m.parentId()).isEqualTo(35);
        assertThat(m.major()).isEqualTo(98);
        assertThat(m.minor()).isZero();
        assertThat(m.majorMinor()).isEqualTo("98:0");
        assertThat(m.root()).isEqualTo("/mnt1");
        assertThat(m.mountPoint()).isEqualTo(Path.of("/mnt2"));
        assertThat(m.options()).containsExactly("rw", "noatime");
        assertThat(m.optionalFields()).containsExactly("master:1");
        assertThat(m.fsType()).isEqualTo("ext3");
        assertThat(m.source()).isEqualTo("/dev/root");
        assertThat(m.superOptions()).containsExactly("rw", "errors=continue");
        assertThat(m.readOnly()).isFalse();
        assertThat(m.option("errors")).contains("continue");
        assertThat(m.option("noatime")).contains("");
        assertThat(m.option("nosuid")).isEmpty();
    }

    @Test
    void parsesSeveralOptionalFieldsAndNone() {
        MountInfo many = MountInfo.parse("61 24 0:5 / /dev ro,nosuid shared:2 master:7 propagate_from:3 - devtmpfs udev rw");
        assertThat(many.optionalFields()).containsExactly("shared:2", "master:7", "propagate_from:3");
        assertThat(many.readOnly()).isTrue();
        MountInfo none = MountInfo.parse("22 27 0:21 / /proc rw,relatime - proc proc rw");
        assertThat(none.optionalFields()).isEmpty();
        assertThat(none.fsType()).isEqualTo("proc");
    }

    @Test
    void decodesOctalEscapesInPathsAndSource() {
        MountInfo m = MountInfo.parse("43 27 254:0 /data/my\\040dir /mnt/a\\040b\\011c\\012d\\134e rw - fuse.sshfs "
                + "user@host:/x\\040y rw,user_id=0");
        assertThat(m.root()).isEqualTo("/data/my dir");
        assertThat(m.mountPoint()).isEqualTo(Path.of("/mnt/a b\tc\nd\\e"));
        assertThat(m.source()).isEqualTo("user@host:/x y");
        assertThat(m.fsType()).isEqualTo("fuse.sshfs");
    }

    @Test
    void keepsNonAsciiAndLoneBackslashes() {
        assertThat(MountInfo.unescape("/mnt/caf\u00e9")).isEqualTo("/mnt/caf\u00e9");
        assertThat(MountInfo.unescape("a\\b\\12")).isEqualTo("a\\b\\12");
        assertThat(MountInfo.unescape("\\303\\251")).isEqualTo("\u00e9");
    }

    @Test
    void emptySourceIsAField() {
        MountInfo m = MountInfo.parse("50 27 0:44 / /mnt/t rw - tmpfs  rw,size=1024k");
        assertThat(m.source()).isEmpty();
        assertThat(m.superOptions()).containsExactly("rw", "size=1024k");
    }

    @Test
    void rejectsMalformedLinesNamingTheLine() {
        assertThatThrownBy(() -> MountInfo.parse("36 35 98:0 /mnt1 /mnt2 rw ext3 /dev/root rw"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a mountinfo line");
        assertThatThrownBy(() -> MountInfo.parse("x 35 98:0 / /m rw - ext3 /dev/root rw"))
                .hasMessageContaining("bad number");
        assertThatThrownBy(() -> MountInfo.parse("1 35 980 / /m rw - ext3 /dev/root rw"))
                .hasMessageContaining("major:minor");
        assertThatThrownBy(() -> MountInfo.parseAll("22 27 0:21 / /proc rw - proc proc rw\n\ngarbage\n"))
                .hasMessageStartingWith("line 3: ");
    }

    @Test
    void parseAllSkipsBlankLinesAndKeepsOrder() {
        List<MountInfo> all = MountInfo.parseAll("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n\n2 1 0:5 / /dev rw - devtmpfs udev rw\n");
        assertThat(all).extracting(MountInfo::mountId).containsExactly(1, 2);
    }
}
