package dev.nodekit.common.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountsTest {
    /** A node with kubelet, a CSI publish (bind of a staged dir), a bind-mounted file and stacked /dev/shm. */
    static final String NODE = """
            1 0 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
            22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
            24 1 0:6 / /dev rw,nosuid,relatime shared:2 - devtmpfs devtmpfs rw,size=12334460k,mode=755
            25 24 0:23 / /dev/shm rw,nosuid,nodev shared:3 - tmpfs tmpfs rw
            30 25 0:27 / /dev/shm rw,relatime - tmpfs shm rw,size=65536k
            40 1 254:16 / /var/lib/kubelet rw,relatime shared:20 - xfs /dev/vdb rw,attr2
            41 40 7:3 / /var/lib/kubelet/plugins/kubernetes.io/csi/nodekit/abc/globalmount rw,relatime shared:21 - ext4 /dev/loop3 rw
            42 40 7:3 /data /var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv\\0401/mount ro,relatime shared:21 - ext4 /dev/loop3 rw
            43 40 254:0 /etc/hosts.kube /var/lib/kubelet/pods/p1/etc-hosts rw,relatime shared:1 - ext4 /dev/vda rw,discard
            """;

    private final Mounts mounts = Mounts.fromText(() -> NODE);

    @Test
    void findsMountPointsExactly() throws Exception {
        assertThat(mounts.isMountPoint(Path.of("/var/lib/kubelet"))).isTrue();
        assertThat(mounts.isMountPoint(Path.of("/var/lib/kubelet/pods"))).isFalse();
        assertThat(mounts.isMountPoint(Path.of("/var/lib"))).isFalse();
        assertThat(mounts.findByMountPoint(Path.of("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv 1/mount")))
                .hasValueSatisfying(m -> {
                    assertThat(m.mountId()).isEqualTo(42);
                    assertThat(m.root()).isEqualTo("/data");
                    assertThat(m.readOnly()).isTrue();
                });
    }

    @Test
    void unnormalizedPathsAreNormalized() throws Exception {
        assertThat(mounts.isMountPoint(Path.of("/var/lib/kubelet/./plugins/../plugins/kubernetes.io/csi/nodekit/abc/globalmount/")))
                .isTrue();
        assertThat(mounts.isMountPoint(Path.of("/var/lib/kubelet/plugins/x/.."))).isFalse();
    }

    @Test
    void bindMountedFilesAreMountPoints() throws Exception {
        assertThat(mounts.isMountPoint(Path.of("/var/lib/kubelet/pods/p1/etc-hosts"))).isTrue();
    }

    @Test
    void symlinksAreResolvedLikeTheKernelDid(@TempDir Path dir) throws Exception {
        Path real = Files.createDirectories(dir.resolve("real/mnt")).toRealPath();
        Path link = Files.createSymbolicLink(dir.resolve("link"), real.getParent());
        Mounts m = Mounts.fromText(() -> NODE + "50 1 0:44 / " + real + " rw - tmpfs tmpfs rw\n");
        assertThat(m.isMountPoint(link.resolve("mnt"))).isTrue();
        assertThat(m.isMountPoint(link)).isFalse();
    }

    @Test
    void relativePathsAreResolvedAgainstTheWorkingDirectory() throws Exception {
        Path cwd = Path.of("").toAbsolutePath().toRealPath();
        Mounts m = Mounts.fromText(() -> NODE + "50 1 0:44 / " + cwd + " rw - tmpfs tmpfs rw\n");
        assertThat(m.isMountPoint(Path.of(""))).isTrue();
        assertThat(m.isMountPoint(Path.of("."))).isTrue();
    }

    @Test
    void stackedMountsAnswerTheTopOneWhateverTheLineOrder() throws Exception {
        assertThat(mounts.findByMountPoint(Path.of("/dev/shm"))).map(MountInfo::mountId).contains(30);
        Mounts reversed = Mounts.fromText(() -> """
                1 0 254:0 / / rw - ext4 /dev/vda rw
                30 25 0:27 / /mnt rw - tmpfs upper rw
                25 1 0:23 / /mnt rw - tmpfs lower rw
                """);
        assertThat(reversed.findByMountPoint(Path.of("/mnt"))).map(MountInfo::source).contains("upper");
    }

    @Test
    void findsBySource() throws Exception {
        assertThat(mounts.findBySource("/dev/loop3")).extracting(MountInfo::mountId).containsExactly(41, 42);
        assertThat(mounts.findBySource("proc")).extracting(MountInfo::mountPoint).containsExactly(Path.of("/proc"));
        assertThat(mounts.findBySource("/dev/nope")).isEmpty();
    }

    @Test
    void findsBySourceThroughASymlinkedDevicePath(@TempDir Path dir) throws Exception {
        Path dev = Files.createFile(dir.resolve("loop9")).toRealPath();
        Path byUuid = Files.createSymbolicLink(dir.resolve("by-uuid-1234"), dev);
        Mounts m = Mounts.fromText(() -> NODE + "50 1 7:9 / /mnt/x rw - ext4 " + dev + " rw\n");
        assertThat(m.findBySource(byUuid.toString())).extracting(MountInfo::mountId).containsExactly(50);
    }

    @Test
    void findsTheMountAPathLivesOn() throws Exception {
        assertThat(mounts.findContaining(Path.of("/var/lib/kubelet/pods/p1/volumes"))).map(MountInfo::mountId).contains(40);
        assertThat(mounts.findContaining(Path.of("/usr/bin/env"))).map(MountInfo::mountId).contains(1);
        assertThat(mounts.findContaining(Path.of("/dev/shm/x"))).map(MountInfo::mountId).contains(30);
    }

    @Test
    void locateGivesWhatABindMountWouldShow() throws Exception {
        MountInfo podView = mounts.findByMountPoint(Path.of("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv 1/mount"))
                .orElseThrow();
        assertThat(mounts.locate(Path.of("/var/lib/kubelet/plugins/kubernetes.io/csi/nodekit/abc/globalmount/data")))
                .contains(new Mounts.FilesystemLocation(7, 3, "/data"))
                .contains(Mounts.FilesystemLocation.of(podView));
        // Through a bind mount: the pod's view of the volume has root /data, so a file in it is /data/f.
        assertThat(mounts.locate(Path.of("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv 1/mount/f")))
                .contains(new Mounts.FilesystemLocation(7, 3, "/data/f"));
        assertThat(mounts.locate(Path.of("/var/lib/kubelet"))).contains(new Mounts.FilesystemLocation(254, 16, "/"));
    }

    @Test
    void readsAfreshOnEveryCall() throws Exception {
        AtomicReference<String> text = new AtomicReference<>("1 0 8:1 / / rw - ext4 /dev/sda1 rw\n");
        Mounts m = Mounts.fromText(text::get);
        assertThat(m.isMountPoint(Path.of("/mnt"))).isFalse();
        text.set(text.get() + "2 1 0:40 / /mnt rw - tmpfs tmpfs rw\n");
        assertThat(m.isMountPoint(Path.of("/mnt"))).isTrue();
    }

    @Test
    void malformedTableIsAnIoErrorNamingTheSource(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("mountinfo");
        Files.writeString(f, "1 0 8:1 / / rw - ext4 /dev/sda1 rw\nbroken line\n");
        assertThatThrownBy(() -> Mounts.fromFile(f).list()).isInstanceOf(IOException.class)
                .hasMessageContaining(f.toString()).hasMessageContaining("line 2");
        assertThatThrownBy(() -> Mounts.fromFile(dir.resolve("missing")).list()).isInstanceOf(IOException.class);
    }

    @Test
    void readsThisProcessesRealTable() throws Exception {
        Mounts system = Mounts.system();
        assertThat(system.list()).isNotEmpty();
        assertThat(system.isMountPoint(Path.of("/"))).isTrue();
        assertThat(system.isMountPoint(Path.of("/proc"))).isTrue();
        assertThat(system.findByMountPoint(Path.of("/proc"))).map(MountInfo::fsType).contains("proc");
    }
}
