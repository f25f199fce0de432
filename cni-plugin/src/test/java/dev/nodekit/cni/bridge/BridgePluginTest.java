package dev.nodekit.cni.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.api.CniCommand;
import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.api.CniRequest;
import dev.nodekit.cni.api.Delegates;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.cni.net.SysfsLinks;
import dev.nodekit.cni.net.Sysctls;
import dev.nodekit.common.exec.Command;
import dev.nodekit.common.exec.CommandResult;
import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.NetConf;
import dev.nodekit.spec.cni.Result;
import dev.nodekit.spec.cni.Route;

/** The bridge plugin's commands and undo logic against a scripted runner and a fake /sys and /proc. */
class BridgePluginTest {
    @TempDir
    Path dir;
    Path sys;
    Path proc;
    Path netns;
    RecordingCommandRunner runner;
    FakeIpam ipam;
    BridgePlugin plugin;

    static final String CONF = "{\"cniVersion\":\"1.0.0\",\"name\":\"net1\",\"type\":\"nodekit-bridge\","
            + "\"bridge\":\"br9\",\"isGateway\":true,\"isDefaultGateway\":true,\"ipMasq\":true,\"mtu\":1400,"
            + "\"hairpinMode\":true,\"ipam\":{\"type\":\"fake-ipam\"}}";

    @BeforeEach
    void setUp() throws Exception {
        sys = Files.createDirectories(dir.resolve("sys"));
        proc = Files.createDirectories(dir.resolve("proc"));
        Files.createDirectories(proc.resolve("net/ipv4"));
        Files.writeString(proc.resolve("net/ipv4/ip_forward"), "0\n");
        Files.createDirectories(proc.resolve("net/ipv6/conf/all"));
        Files.writeString(proc.resolve("net/ipv6/conf/all/forwarding"), "0\n");
        netns = Files.writeString(dir.resolve("netns"), "");
        runner = new RecordingCommandRunner();
        ipam = new FakeIpam();
        plugin = new BridgePlugin(runner, new Delegates(new Delegates.InProcess() {
            @Override
            public CniPlugin lookup(String type) {
                return "fake-ipam".equals(type) ? ipam : null;
            }
        }, runner, new ByteArrayOutputStream(), Duration.ofSeconds(5)), new SysfsLinks(sys), new Sysctls(proc),
                new IpMasq(runner, Duration.ofSeconds(5)), new Random(7));
    }

    /** The kernel's side of the scripted commands: links appear in and vanish from the fake sysfs. */
    void kernel(String bridgeAddrInfo) {
        RecordingCommandRunner.Answer ip = c -> {
            List<String> lines = new ArrayList<>();
            if (c.argv().contains("-batch")) {
                for (String l : new String(c.stdin(), StandardCharsets.UTF_8).split("\n")) {
                    lines.add(l);
                }
            } else {
                lines.add(String.join(" ", c.argv().subList(1, c.argv().size())));
            }
            for (String line : lines) {
                String[] t = line.split(" ");
                if (t.length > 2 && t[0].equals("link") && t[1].equals("add")) {
                    Path d = sys.resolve(t[2]);
                    io(() -> {
                        Files.createDirectories(d);
                        Files.writeString(d.resolve("operstate"), "up\n");
                        Files.writeString(d.resolve("address"), "02:aa:00:00:00:01\n");
                        if (line.contains(" type bridge")) {
                            Files.createDirectories(d.resolve("bridge"));
                        }
                    });
                } else if (t.length > 3 && t[0].equals("link") && t[1].equals("del")) {
                    Path d = sys.resolve(t[3]);
                    io(() -> {
                        for (String f : new String[] {"operstate", "address"}) {
                            Files.deleteIfExists(d.resolve(f));
                        }
                        Files.deleteIfExists(d);
                    });
                }
            }
            String out = c.argv().contains("-j") ? "[{\"ifindex\":5,\"ifname\":\"br9\",\"flags\":[\"UP\"],\"mtu\":1400,"
                    + "\"operstate\":\"UP\",\"address\":\"02:aa:00:00:00:01\",\"addr_info\":[" + bridgeAddrInfo + "]}]" : "";
            return ok(c, out);
        };
        runner.onPrefix("ip").thenAnswer(ip);
        runner.onPrefix("nsenter").thenAnswer(c -> ok(c, ""));
        for (String t : new String[] {"iptables-restore", "ip6tables-restore"}) {
            runner.onPrefix(t).thenAnswer(c -> ok(c, ""));
        }
        runner.onPrefix("bridge").thenAnswer(c -> ok(c, ""));
        for (String t : new String[] {"iptables", "ip6tables"}) {
            runner.onPrefix(t, "-w").thenAnswer(c -> ok(c, "-P POSTROUTING ACCEPT\n"));
        }
    }

    List<String> stdins(String... prefix) {
        List<String> out = new ArrayList<>();
        for (Command c : runner.invocationsStartingWith(prefix)) {
            out.add(new String(c.stdin(), StandardCharsets.UTF_8));
        }
        return out;
    }

    interface IoAction {
        void run() throws java.io.IOException;
    }

    static void io(IoAction a) {
        try {
            a.run();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static CommandResult ok(Command c, String out) {
        return new CommandResult(c.argv(), 0, out, "", Duration.ZERO);
    }

    CniRequest request(CniCommand cmd, String conf, boolean withNetns) throws Exception {
        return new CniRequest(cmd, Optional.of("ctr1"), withNetns ? Optional.of(netns) : Optional.empty(),
                Optional.of("eth0"), CniArgs.EMPTY, List.of(), NetConf.parse(conf),
                conf.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    String stdinOf(String... prefix) {
        List<Command> cs = runner.invocationsStartingWith(prefix);
        assertThat(cs).as("a command starting with %s", List.of(prefix)).isNotEmpty();
        return new String(cs.get(0).stdin(), StandardCharsets.UTF_8);
    }

    @Test
    void addCreatesBridgeVethAddressesRoutesAndMasquerade() throws Exception {
        kernel("");
        Result r = plugin.add(request(CniCommand.ADD, CONF, true));

        List<String> batches = stdins("ip", "-batch", "-");
        assertThat(batches).hasSize(2);
        assertThat(batches.get(0)).matches("link add br9 mtu 1400 address ([0-9a-f]{2}:){5}[0-9a-f]{2} type bridge\n");

        String host = stdinOf("ip", "-j", "-d", "-batch", "-");
        String[] lines = host.split("\n");
        assertThat(lines[0]).matches("link add veth[0-9a-f]{8} mtu 1400 address ([0-9a-f]{2}:){5}[0-9a-f]{2} type veth "
                + "peer name eth0 mtu 1400 address ([0-9a-f]{2}:){5}[0-9a-f]{2} netns " + netns);
        String veth = lines[0].split(" ")[2];
        assertThat(lines).contains("link set dev " + veth + " master br9",
                "link set dev " + veth + " type bridge_slave hairpin on", "link set dev " + veth + " up",
                "link set dev br9 up", "addr show dev br9");

        // The bridge had no address: the gateway is added (and the MAC pinned) by a second host exec.
        assertThat(batches.get(1)).isEqualTo(
                "addr replace 10.22.0.1/24 dev br9\nlink set dev br9 address 02:aa:00:00:00:01\n");
        assertThat(Files.readString(proc.resolve("net/ipv4/ip_forward")).strip()).isEqualTo("1");

        Command cont = runner.invocationsStartingWith("nsenter").get(0);
        assertThat(cont.argv()).contains("--net=" + netns, "net/ipv6/conf/eth0/accept_dad=0",
                "net/ipv4/conf/eth0/arp_notify=1");
        assertThat(new String(cont.stdin(), StandardCharsets.UTF_8)).isEqualTo("""
                link set dev eth0 up
                addr add 10.22.0.5/24 dev eth0
                route add 0.0.0.0/0 via 10.22.0.1 dev eth0
                """);

        String masq = stdinOf("iptables-restore");
        String chain = IpMasq.chainName("net1", "ctr1");
        assertThat(masq).contains("-A POSTROUTING -s 10.22.0.5 -j " + chain);

        assertThat(r.interfaces()).hasSize(3);
        assertThat(r.interfaces().get(0).name()).isEqualTo("br9");
        assertThat(r.interfaces().get(0).mac()).hasValue("02:aa:00:00:00:01");
        assertThat(r.interfaces().get(1).name()).isEqualTo(veth);
        assertThat(r.interfaces().get(2).sandbox()).hasValue(netns.toString());
        assertThat(r.interfaces().get(2).mtu()).isEqualTo(1400);
        assertThat(r.ips()).containsExactly(IpConfig.of("10.22.0.5/24", "10.22.0.1").withInterface(2));
        assertThat(r.routes()).containsExactly(Route.of("0.0.0.0/0", "10.22.0.1"));
        assertThat(ipam.calls).containsExactly("ADD");
    }

    @Test
    void aBridgeThatHasTheGatewayNeedsNoSecondExec() throws Exception {
        Files.createDirectories(sys.resolve("br9/bridge"));
        kernel("{\"family\":\"inet\",\"local\":\"10.22.0.1\",\"prefixlen\":24,\"scope\":\"global\"}");
        plugin.add(request(CniCommand.ADD, CONF, true));
        assertThat(runner.invocationsStartingWith("ip", "-batch", "-")).isEmpty();
    }

    @Test
    void aDifferentBridgeAddressIsAnErrorUnlessForced() throws Exception {
        Files.createDirectories(sys.resolve("br9/bridge"));
        kernel("{\"family\":\"inet\",\"local\":\"10.99.0.1\",\"prefixlen\":24,\"scope\":\"global\"}");
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF, true)))
                .hasMessageContaining("already has an IP address different from 10.22.0.1/24");
        // Undone: the veth is deleted again and the address released.
        assertThat(runner.invocationsStartingWith("ip", "link", "del")).hasSize(1);
        assertThat(ipam.calls).containsExactly("ADD", "DEL");
        runner.clearInvocations();
        ipam.calls.clear();
        plugin.add(request(CniCommand.ADD, CONF.replace("\"mtu\"", "\"forceAddress\":true,\"mtu\""), true));
        assertThat(stdins("ip", "-batch", "-").get(0))
                .startsWith("addr del 10.99.0.1/24 dev br9\naddr replace 10.22.0.1/24 dev br9\n");
    }

    @Test
    void aFailureInTheNamespaceUndoesEverythingBefore() throws Exception {
        kernel("");
        runner.onPrefix("nsenter").thenFail(1, "Error: ipv4: Address already assigned.\nCommand failed -:2\n");
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF, true))).isInstanceOf(CniException.class)
                .hasMessageContaining("addr add 10.22.0.5/24 dev eth0");
        assertThat(runner.invocationsStartingWith("ip", "link", "del")).hasSize(1);
        assertThat(runner.invocationsStartingWith("iptables-restore")).isEmpty();
        assertThat(ipam.calls).containsExactly("ADD", "DEL");
        try (var s = Files.list(sys)) {
            assertThat(s.map(p -> p.getFileName().toString()).toList()).containsExactly("br9");
        }
    }

    @Test
    void anExistingContainerInterfaceFailsAddAndReleasesTheAddress() throws Exception {
        kernel("");
        runner.onPrefix("ip", "-j", "-d", "-batch", "-").thenFail(2, "RTNETLINK answers: File exists\nCommand failed -:1\n");
        Files.createDirectories(sys.resolve("br9/bridge"));
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF, true)))
                .hasMessageContaining("container interface eth0 already exists");
        assertThat(ipam.calls).containsExactly("ADD", "DEL");
    }

    @Test
    void vlanAccessPortGatewayInterfaceAndRequestedMac() throws Exception {
        kernel("");
        String conf = CONF.replace("\"mtu\":1400,", "\"vlan\":100,\"preserveDefaultVlan\":false,")
                .replace("\"ipMasq\":true,", "\"runtimeConfig\":{\"mac\":\"02:12:34:56:78:9A\"},");
        Result r = plugin.add(request(CniCommand.ADD, conf, true));
        assertThat(stdins("ip", "-batch", "-").get(0)).contains(" type bridge vlan_filtering 1");
        String host = stdinOf("ip", "-j", "-d", "-batch", "-");
        assertThat(host.split("\n")[0]).contains("peer name eth0 address 02:12:34:56:78:9a netns ");
        String veth = host.split("\n")[0].split(" ")[2];
        List<String> vlanBatches = stdins("bridge", "-batch", "-");
        assertThat(vlanBatches.get(0)).isEqualTo("vlan del dev " + veth + " vid 1\nvlan add dev " + veth
                + " vid 100 pvid untagged master\n");
        // The gateway lives on the VLAN's gateway interface br9.100, an access port of VLAN 100.
        assertThat(stdins("ip", "-batch", "-").get(1)).startsWith("link add br9.100 type veth peer name veth");
        assertThat(vlanBatches.get(1)).endsWith(" vid 100 pvid untagged master\n");
        assertThat(stdins("ip", "-batch", "-").get(2)).startsWith("addr replace 10.22.0.1/24 dev br9.100\n");
        assertThat(r.interfaces().get(2).mac()).hasValue("02:12:34:56:78:9a");
        assertThat(r.interfaces()).extracting(i -> i.name()).contains("br9.100");
    }

    @Test
    void badConfigurationTouchesNothing() throws Exception {
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF.replace("\"mtu\"", "\"macspoofchk\":true,\"mtu\""),
                true))).hasMessageContaining("macspoofchk");
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF.replace("\"mtu\":1400", "\"mtu\":\"big\""), true)))
                .hasMessageContaining("mtu");
        Files.createDirectories(sys.resolve("br9"));
        assertThatThrownBy(() -> plugin.add(request(CniCommand.ADD, CONF, true)))
                .hasMessageContaining("already exists but is not a bridge");
        assertThat(runner.invocations()).isEmpty();
        assertThat(ipam.calls).isEmpty();
    }

    @Test
    void delCleansUpEvenWhenTheNetnsIsGone() throws Exception {
        kernel("");
        Files.delete(netns);
        plugin.del(request(CniCommand.DEL, CONF, true));
        plugin.del(request(CniCommand.DEL, CONF, false));
        assertThat(runner.invocationsStartingWith("nsenter")).isEmpty();
        assertThat(ipam.calls).containsExactly("DEL", "DEL");
        String chain = IpMasq.chainName("net1", "ctr1");
        assertThat(stdinOf("iptables-restore")).contains("-X " + chain);
    }

    @Test
    void delDeletesTheContainerInterface() throws Exception {
        kernel("");
        plugin.del(request(CniCommand.DEL, CONF, true));
        assertThat(runner.invocationsStartingWith("nsenter").get(0).argv()).endsWith("ip", "link", "del", "dev", "eth0");
        runner.onPrefix("nsenter").thenFail(1, "Cannot find device \"eth0\"");
        plugin.del(request(CniCommand.DEL, CONF, true));
        assertThat(ipam.calls).containsExactly("DEL", "DEL");
    }

    /** An IPAM delegate that hands out 10.22.0.5/24 and records calls. */
    static final class FakeIpam implements CniPlugin {
        final List<String> calls = new ArrayList<>();

        @Override
        public Result add(CniRequest request) {
            calls.add(request.command().name());
            return Result.of(CniVersion.V1_0_0, List.of(), List.of(IpConfig.of("10.22.0.5/24", "10.22.0.1")), List.of(),
                    Optional.empty());
        }

        @Override
        public void del(CniRequest request) {
            calls.add(request.command().name());
        }

        @Override
        public void check(CniRequest request) {
            calls.add(request.command().name());
        }

        @Override
        public String about() {
            return "fake ipam";
        }
    }
}
