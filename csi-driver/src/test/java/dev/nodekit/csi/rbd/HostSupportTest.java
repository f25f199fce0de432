package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostSupportTest {
    @TempDir
    Path root;

    @Test
    void krbdNeedsTheKernelDriverAndFuseNeedsItsTools() throws Exception {
        Set<String> installed = Set.of("rbd", "rbd-fuse", "fusermount", "losetup");
        HostSupport none = HostSupport.probe(n -> installed.contains(n) ? Optional.of(Path.of("/usr/bin", n))
                : Optional.empty(), root);
        assertThat(none.krbd()).isFalse();
        assertThat(none.whyNotKrbd()).contains("/sys/bus/rbd");
        assertThat(none.fuse()).isFalse();
        assertThat(none.whyNotFuse()).contains("/dev/fuse");
        assertThat(none.preferred()).isEmpty();

        Files.createDirectories(root.resolve("dev"));
        Files.createFile(root.resolve("dev/fuse"));
        HostSupport fuse = HostSupport.probe(n -> installed.contains(n) ? Optional.of(Path.of("/usr/bin", n))
                : Optional.empty(), root);
        assertThat(fuse.fuse()).isTrue();
        assertThat(fuse.preferred()).contains(Mounter.FUSE);
        assertThat(fuse.rbdFuse()).contains(Path.of("/usr/bin/rbd-fuse"));

        Files.createDirectories(root.resolve("sys/bus/rbd"));
        HostSupport both = HostSupport.probe(n -> installed.contains(n) ? Optional.of(Path.of("/usr/bin", n))
                : Optional.empty(), root);
        assertThat(both.preferred()).as("krbd first, as ceph-csi").contains(Mounter.KRBD);
        HostSupport noTools = HostSupport.probe(n -> Optional.empty(), root);
        assertThat(noTools.krbd()).isFalse();
        assertThat(noTools.whyNotFuse()).contains("rbd-fuse").contains("losetup");
    }
}
