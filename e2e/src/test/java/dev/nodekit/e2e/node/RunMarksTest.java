package dev.nodekit.e2e.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The names a run gives things on the host, and the footprint's pure parts. */
class RunMarksTest {
    final RunMarks m = new RunMarks("0a1b2c3d", Path.of("/tmp/nodekit-0a1b2c3d"));

    @Test
    void everyHostWideNameCarriesTheRunIdAndFitsLinuxLimits() {
        assertThat(m.bridge()).isEqualTo("nk0a1b2c3db").hasSizeLessThanOrEqualTo(15);
        assertThat(m.network()).isEqualTo("nodekit-0a1b2c3d");
        assertThat(m.cgroupName()).contains("0a1b2c3d");
        assertThat(m.netnsNames()).hasSize(2).allMatch(n -> n.contains("0a1b2c3d"));
    }

    @Test
    void everyFileLivesUnderTheRunDirAndSocketsStayShort() {
        for (Path p : List.of(m.cniBinDir(), m.cniConfDir(), m.cniLibDir(), m.ipamDataDir(), m.ipamNetworkDir(),
                m.kubeletDir(), m.csiDataDir(), m.csiSocket(), m.shimSocket())) {
            assertThat(p).startsWithRaw(m.runDir());
        }
        // unix socket paths: 108 bytes on Linux, 104 in containerd's check
        assertThat(m.runDir().resolve("containerd/containerd.sock.ttrpc").toString()).hasSizeLessThan(104);
        assertThat(m.csiSocket().toString()).hasSizeLessThan(104);
    }

    @Test
    void runIdAndDirAreValidated() {
        assertThatThrownBy(() -> new RunMarks("0A1B2C3D", Path.of("/tmp/x"))).hasMessageContaining("hex");
        assertThatThrownBy(() -> new RunMarks("0a1b2c3", Path.of("/tmp/x"))).hasMessageContaining("8");
        assertThatThrownBy(() -> new RunMarks("0a1b2c3d", Path.of("tmp/x"))).hasMessageContaining("absolute");
        assertThat(new RunMarks("0a1b2c3d", Path.of("/tmp/a/../b")).runDir()).isEqualTo(Path.of("/tmp/b"));
    }

    @Test
    void subnetPrefixIsWhatIptablesLinesAreSearchedFor() {
        assertThat(Footprint.subnetPrefix("10.201.7.0/24")).isEqualTo("10.201.7.");
        assertThat(Footprint.subnetPrefix("10.201.0.0/16")).isNull();
        assertThat(Footprint.subnetPrefix(null)).isNull();
    }

    @Test
    void footprintsFilterByKind() {
        Footprint f = new Footprint(List.of(new Footprint.Finding(Footprint.Kind.BRIDGE, "nk0a1b2c3db"),
                new Footprint.Finding(Footprint.Kind.IPAM_FILE, "/tmp/x/10.1.2.3 (c1)")));
        assertThat(f.isClean()).isFalse();
        assertThat(f.only(Footprint.Kind.podNetworking()).findings()).hasSize(1);
        assertThat(f.except(EnumSet.of(Footprint.Kind.IPAM_FILE)).findings()).extracting(Footprint.Finding::kind)
                .containsExactly(Footprint.Kind.BRIDGE);
        assertThat(f.count(Footprint.Kind.BRIDGE)).isEqualTo(1);
        assertThat(f).hasToString("bridge: nk0a1b2c3db; ipam_file: /tmp/x/10.1.2.3 (c1)");
    }
}
