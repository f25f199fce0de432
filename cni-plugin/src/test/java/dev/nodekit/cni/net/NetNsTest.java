package dev.nodekit.cni.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.exec.Command;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

class NetNsTest {
    @TempDir
    Path dir;

    private Path netns() throws Exception {
        Path p = dir.resolve("ns1");
        Files.writeString(p, "");
        return p;
    }

    @Test
    void entersByPathWithNsenterAndBatchesOnStdin() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("nsenter").thenSucceed();
        Path ns = netns();
        NetNs.at(ns, r).apply(new IpBatch().add("link", "set", "dev", "eth0", "up").add("addr", "add", "10.0.0.2/24",
                "dev", "eth0"));
        Command c = r.invocations().get(0);
        assertThat(c.argv()).containsExactly("nsenter", "--net=" + ns, "--", "ip", "-batch", "-");
        assertThat(new String(c.stdin())).isEqualTo("link set dev eth0 up\naddr add 10.0.0.2/24 dev eth0\n");
        assertThat(c.timeout()).isEqualTo(NetNs.DEFAULT_TIMEOUT);
    }

    @Test
    void hostNamespaceRunsIpDirectly() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("ip").thenSucceed();
        NetNs.host(r).apply(new IpBatch().add("link", "set", "dev", "cni0", "up"));
        assertThat(r.argvs()).containsExactly(List.of("ip", "-batch", "-"));
    }

    @Test
    void sysctlsAreWrittenInsideTheNamespaceInTheSameExec() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("nsenter").thenSucceed();
        Path ns = netns();
        Map<String, String> s = new LinkedHashMap<>();
        s.put("net/ipv4/conf/eth0/arp_notify", "1");
        s.put("net/ipv6/conf/eth0/accept_dad", "0");
        NetNs.at(ns, r).apply(new IpBatch().add("link", "set", "dev", "eth0", "up"), s);
        List<String> argv = r.argvs().get(0);
        assertThat(argv.subList(0, 5)).containsExactly("nsenter", "--net=" + ns, "--", "sh", "-c");
        assertThat(argv.subList(6, argv.size())).containsExactly("sh", "2", "net/ipv4/conf/eth0/arp_notify=1",
                "net/ipv6/conf/eth0/accept_dad=0", "-batch", "-");
        assertThatThrownBy(() -> NetNs.at(ns, r).apply(new IpBatch(), Map.of("kernel/panic", "1")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NetNs.at(ns, r).apply(new IpBatch(), Map.of("net/../../x", "1")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aFailedBatchNamesTheLineThatFailed() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("nsenter").thenFail(1, "Error: ipv4: Address already assigned.\nCommand failed -:2\n");
        IpBatch b = new IpBatch().add("link", "set", "dev", "eth0", "up").add("addr", "add", "10.0.0.2/24", "dev", "eth0");
        assertThatThrownBy(() -> NetNs.at(netns(), r).apply(b)).isInstanceOf(CniException.class)
                .hasMessageContaining("at 'ip addr add 10.0.0.2/24 dev eth0'")
                .hasMessageContaining("Address already assigned");
    }

    @Test
    void aMissingOrBrokenNamespaceIsNoSuchNetNs() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        assertThatThrownBy(() -> NetNs.at(dir.resolve("gone"), r).apply(new IpBatch().add("link", "show")))
                .isInstanceOf(NoSuchNetNsException.class);
        assertThat(r.invocations()).isEmpty();
        r.onPrefix("nsenter").thenFail(1, "nsenter: reassociate to namespace 'ns/net' failed: Invalid argument");
        assertThatThrownBy(() -> NetNs.at(netns(), r).deleteLink("eth0")).isInstanceOf(NoSuchNetNsException.class);
    }

    @Test
    void timeoutsAreTryAgainLater() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("ip").thenTimeout();
        assertThatThrownBy(() -> NetNs.host(r).apply(new IpBatch().add("link", "show")))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.code()).isEqualTo(CniError.TRY_AGAIN_LATER));
    }

    @Test
    void deletingAMissingLinkIsNotAnError() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("nsenter").thenFail(1, "Cannot find device \"eth0\"");
        assertThat(NetNs.at(netns(), r).deleteLink("eth0")).isFalse();
    }

    @Test
    void readsLinksAddressesAndRoutesFromIpJson() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.on(c -> c.argv().contains("addr"), "addr show").thenSucceed("""
                [{"ifindex":2,"link_index":961,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],
                  "mtu":1450,"operstate":"UP","address":"c2:11:22:33:44:55","link_netnsid":0,
                  "linkinfo":{"info_kind":"veth"},"promiscuity":0,
                  "addr_info":[{"family":"inet","local":"10.250.9.2","prefixlen":24,"scope":"global"},
                               {"family":"inet6","local":"fd00:5::2","prefixlen":64,"scope":"global","nodad":true},
                               {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link","tentative":true}]}]
                """);
        r.on(c -> c.argv().contains("route"), "route show").thenSucceed("""
                [{"dst":"default","gateway":"10.250.9.1","dev":"eth0","flags":[]},
                 {"dst":"10.250.9.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.250.9.2","flags":[]}]
                """);
        NetNs ns = NetNs.at(netns(), r);
        Optional<LinkState> l = ns.link("eth0");
        assertThat(l).isPresent();
        LinkState s = l.get();
        assertThat(s.index()).isEqualTo(2);
        assertThat(s.peerIndex()).hasValue(961);
        assertThat(s.kind()).hasValue("veth");
        assertThat(s.mac()).hasValue("c2:11:22:33:44:55");
        assertThat(s.mtu()).isEqualTo(1450);
        assertThat(s.up()).isTrue();
        assertThat(s.has(IpNetwork.parse("10.250.9.2/24"))).isTrue();
        assertThat(s.has(IpNetwork.parse("10.250.9.2/16"))).isFalse();
        assertThat(s.globalAddresses(6)).containsExactly(IpNetwork.parse("fd00:5::2/64"));
        assertThat(s.addresses().get(2).tentative()).isTrue();
        List<RouteState> routes = ns.routes(4);
        assertThat(routes).hasSize(2);
        assertThat(routes.get(0).destination()).isEqualTo(IpNetwork.parse("0.0.0.0/0"));
        assertThat(routes.get(0).gateway()).hasValue(IpAddress.parse("10.250.9.1"));
        assertThat(routes.get(1).gateway()).isEmpty();
    }
}
