package dev.nodekit.cni.ipam;

import static dev.nodekit.cni.ipam.IpamFixtures.config;
import static dev.nodekit.cni.ipam.IpamFixtures.ranges;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.IpRange;
import dev.nodekit.spec.cni.NetConf;

class HostLocalConfigTest {
    @TempDir
    Path data;

    @Test
    void rangeSetOrderIsRuntimeThenLegacyThenRanges() throws Exception {
        HostLocalConfig c = config(data, "\"subnet\":\"10.2.0.0/24\"," + ranges("10.3.0.0/24"),
                ",\"runtimeConfig\":{\"ipRanges\":[[{\"subnet\":\"10.1.0.0/24\"}]]}", CniArgs.EMPTY);
        List<String> firsts = new ArrayList<>();
        for (RangeSet s : c.rangeSets()) {
            firsts.add(s.ranges().get(0).subnet().toString());
        }
        assertThat(firsts).containsExactly("10.1.0.0/24", "10.2.0.0/24", "10.3.0.0/24");
        assertThat(c.networkDir()).isEqualTo(data.resolve("net1"));
    }

    @Test
    void defaultsDataDirAndRequiresRanges() throws Exception {
        NetConf conf = NetConf.parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"x\",\"ipam\":{\"type\":\"y\","
                + ranges("10.1.0.0/24") + "}}");
        assertThat(HostLocalConfig.from(conf, CniArgs.EMPTY).dataDir()).isEqualTo(HostLocalConfig.DEFAULT_DATA_DIR);
        assertThatThrownBy(() -> config(data, "\"routes\":[]")).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(CniError.INVALID_NETWORK_CONFIG);
            assertThat(e.getMessage()).isEqualTo("no IP ranges specified");
        });
        NetConf noIpam = NetConf.parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"x\"}");
        assertThatThrownBy(() -> HostLocalConfig.from(noIpam, CniArgs.EMPTY)).hasMessage("IPAM config missing 'ipam' key");
    }

    @Test
    void rejectsInvalidAndOverlappingRanges() {
        assertThatThrownBy(() -> config(data, ranges("10.1.0.5/24")))
                .hasMessage("invalid range set 0: Network has host bits set. For a subnet mask of length 24 the network "
                        + "address is 10.1.0.0");
        assertThatThrownBy(() -> config(data, ranges("10.1.0.0/31"))).hasMessageContaining("too small to allocate from");
        assertThatThrownBy(() -> config(data, ranges("10.1.0.0/24", "10.1.0.0/25")))
                .hasMessage("range set 0 overlaps with 1");
        assertThatThrownBy(() -> config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/24\"},{\"subnet\":\"fd00::/64\"}]]"))
                .hasMessageContaining("mixed address families");
        assertThatThrownBy(() -> config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/24\",\"gateway\":\"10.2.0.1\"}]]"))
                .hasMessageContaining("gateway 10.2.0.1 not in network 10.1.0.0/24");
        assertThatThrownBy(() -> config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/24\",\"rangeStart\":\"10.1.0.50\","
                + "\"rangeEnd\":\"10.1.0.40\"}]]")).hasMessageContaining("but before start 10.1.0.50");
        assertThatThrownBy(() -> config(data, "\"ranges\":[[{\"subnet\":\"10.1.0.0/24\",\"rangeStart\":\"10.2.0.5\"}]]"))
                .hasMessageContaining("10.2.0.5 not in network 10.1.0.0/24");
        assertThatThrownBy(() -> config(data, ranges("10.1.0.0/24"), ",\"args\":{\"cni\":{\"ips\":[\"nope\"]}}",
                CniArgs.EMPTY)).hasMessageContaining("cannot understand ip");
    }

    @Test
    void rangeDefaultsAndCapacity() {
        AddressRange v4 = AddressRange.of(IpRange.of("10.1.0.0/24"));
        assertThat(v4.start()).hasToString("10.1.0.1");
        assertThat(v4.end()).hasToString("10.1.0.254");
        assertThat(v4.gateway()).hasToString("10.1.0.1");
        assertThat(v4.capacity()).isEqualTo(253);
        AddressRange v6 = AddressRange.of(IpRange.of("fd00::/120"));
        assertThat(v6.end()).hasToString("fd00::ff");
        assertThat(v6.capacity()).isEqualTo(254);
        AddressRange custom = AddressRange.of(new IpRange("10.1.0.0/24", Optional.of("10.1.0.10"), Optional.of("10.1.0.19"),
                Optional.of("10.1.0.254"), Map.of()));
        assertThat(custom.capacity()).isEqualTo(10);
        assertThat(custom.contains(IpAddress.parse("10.1.0.9"))).isFalse();
        assertThat(custom.contains(IpAddress.parse("10.1.0.19"))).isTrue();
    }
}
