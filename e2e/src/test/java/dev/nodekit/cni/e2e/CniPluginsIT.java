package dev.nodekit.cni.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import dev.nodekit.cni.e2e.CniHost.Exec;
import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;

/**
 * nodekit's bridge, host-local and loopback plugins on a real kernel: throwaway namespaces, unique
 * bridges, private subnets, everything removed in the end. Covers what the conformance suite does
 * not: interop with the Go plugins in both directions, masquerade rules, parallel ADDs, kill -9 in
 * the middle of ADD, and bad input leaving nothing behind.
 */
@Requires({Requirement.ROOT, Requirement.NETNS, Requirement.IPTABLES, Requirement.CNI_REFERENCE_PLUGINS})
class CniPluginsIT {
    static CniHost host;

    @BeforeAll
    static void install() throws Exception {
        host = CniHost.create(false);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (host != null) {
            host.close();
        }
    }

    /** ADD, CHECK and DEL (twice) of one attachment, with the pod's view checked in its namespace. */
    void attachDetach(String bridgePlugin, String ipamPlugin, String version, boolean dualStack) throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String v4 = host.freeSubnet();
        String conf = dualStack
                ? host.bridgeConf(version, net, bridgePlugin, br, ipamPlugin, ",\"isDefaultGateway\":true", v4,
                        host.freeSubnet6())
                : host.bridgeConf(version, net, bridgePlugin, br, ipamPlugin, ",\"isDefaultGateway\":true", v4);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        Exec add = host.cni(bridgePlugin, "ADD", ns, id, "eth0", conf);
        assertThat(add.code()).as("%s", add).isZero();
        JsonNode r = add.json();
        assertThat(r.path("cniVersion").asText()).isEqualTo(version);
        assertThat(r.path("interfaces")).hasSize(3);
        assertThat(r.path("interfaces").get(0).path("name").asText()).isEqualTo(br);
        assertThat(r.path("interfaces").get(2).path("sandbox").asText()).isEqualTo(ns.toString());
        String containerMac = r.path("interfaces").get(2).path("mac").asText();
        assertThat(r.path("ips")).hasSize(dualStack ? 2 : 1);

        JsonNode eth0 = CniHost.addrIn(ns, "eth0");
        assertThat(eth0.path("address").asText()).isEqualTo(containerMac);
        Set<String> onLink = new HashSet<>();
        for (JsonNode a : eth0.path("addr_info")) {
            onLink.add(a.path("local").asText() + "/" + a.path("prefixlen").asInt());
        }
        for (JsonNode ip : r.path("ips")) {
            assertThat(onLink).contains(ip.path("address").asText());
            assertThat(ip.path("interface").asInt()).isEqualTo(2);
            String gw = ip.path("gateway").asText();
            Exec ping = CniHost.run(List.of("nsenter", "--net=" + ns, "ping", "-c", "1", "-W", "3", gw), java.util.Map.of(),
                    "", java.time.Duration.ofSeconds(30));
            assertThat(ping.code()).as("ping %s from the pod: %s", gw, ping).isZero();
        }
        assertThat(host.ports(br)).hasSize(1);
        assertThat(host.ports(br).get(0)).isEqualTo(r.path("interfaces").get(1).path("name").asText());
        assertThat(host.allocations(net)).hasSize(dualStack ? 2 : 1);

        if (!version.startsWith("0.3")) {
            ObjectNode withPrev = (ObjectNode) CniHost.JSON.readTree(conf);
            withPrev.set("prevResult", r);
            Exec check = host.cni(bridgePlugin, "CHECK", ns, id, "eth0", withPrev.toString());
            assertThat(check.code()).as("%s", check).isZero();
        }
        Exec del = host.cni(bridgePlugin, "DEL", ns, id, "eth0", conf);
        assertThat(del.code()).as("%s", del).isZero();
        assertThat(CniHost.linkIn(ns, "eth0")).isFalse();
        assertThat(host.ports(br)).isEmpty();
        assertThat(host.allocations(net)).isEmpty();
        Exec again = host.cni(bridgePlugin, "DEL", ns, id, "eth0", conf);
        assertThat(again.code()).as("second DEL: %s", again).isZero();
        host.deleteNetns(ns);
    }

    @Test
    void bridgeWithHostLocalDualStack() throws Exception {
        attachDetach("nodekit-bridge", "nodekit-host-local", "1.0.0", true);
    }

    @Test
    void bridgeWithHostLocalOlderVersions() throws Exception {
        attachDetach("nodekit-bridge", "nodekit-host-local", "0.3.1", false);
        attachDetach("nodekit-bridge", "nodekit-host-local", "0.4.0", false);
        attachDetach("nodekit-bridge", "nodekit-host-local", "1.1.0", false);
    }

    @Test
    void ourBridgeWithGoHostLocal() throws Exception {
        attachDetach("nodekit-bridge", "host-local", "1.0.0", true);
    }

    @Test
    void goBridgeWithOurHostLocal() throws Exception {
        attachDetach("bridge", "nodekit-host-local", "1.0.0", true);
    }

    @Test
    void delAfterTheNetnsIsGoneReleasesEverything() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        assertThat(host.cni("nodekit-bridge", "ADD", ns, id, "eth0", conf).check().code()).isZero();
        assertThat(host.natRules(net)).isNotEmpty();
        host.deleteNetns(ns);
        Exec del = host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf);
        assertThat(del.code()).as("%s", del).isZero();
        Exec del2 = host.cni("nodekit-bridge", "DEL", null, id, "eth0", conf);
        assertThat(del2.code()).as("%s", del2).isZero();
        assertThat(host.allocations(net)).isEmpty();
        assertThat(host.natRules(net)).as("masquerade rules after DEL without netns").isEmpty();
        assertThat(host.ports(br)).isEmpty();
    }

    @Test
    void masqueradeRulesAreGosAndEitherPluginRemovesThem() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        JsonNode r = host.cni("nodekit-bridge", "ADD", ns, id, "eth0", conf).check().json();
        String ip = r.path("ips").get(0).path("address").asText().split("/")[0];
        List<String> rules = host.natRules(net);
        assertThat(rules).anyMatch(l -> l.startsWith("-A POSTROUTING -s " + ip + "/32") && l.contains("-j CNI-"));
        assertThat(rules).anyMatch(l -> l.contains("-j MASQUERADE"));
        // The Go bridge's DEL finds and removes what nodekit set up: same chain name and comment.
        String goConf = conf.replace("\"type\":\"nodekit-bridge\"", "\"type\":\"bridge\"");
        Exec del = host.cni("bridge", "DEL", ns, id, "eth0", goConf);
        assertThat(del.code()).as("%s", del).isZero();
        assertThat(host.natRules(net)).isEmpty();
        assertThat(host.allocations(net)).isEmpty();

        // And the other way round.
        Exec goAdd = host.cni("bridge", "ADD", ns, id, "eth0", goConf);
        assertThat(goAdd.code()).as("%s", goAdd).isZero();
        assertThat(host.natRules(net)).isNotEmpty();
        assertThat(host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf).check().code()).isZero();
        assertThat(host.natRules(net)).isEmpty();
        host.deleteNetns(ns);
    }

    @Test
    void gcAndStatusThroughTheBridge() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.1.0", net, br);
        Path ns1 = host.newNetns();
        Path ns2 = host.newNetns();
        String keep = host.newContainerId();
        String drop = host.newContainerId();
        host.cni("nodekit-bridge", "ADD", ns1, keep, "eth0", conf).check();
        host.cni("nodekit-bridge", "ADD", ns2, drop, "eth0", conf).check();
        assertThat(host.cni("nodekit-bridge", "STATUS", null, null, null, conf).check().out()).isEmpty();
        host.deleteNetns(ns2);
        ObjectNode gc = (ObjectNode) CniHost.JSON.readTree(conf);
        gc.putArray("cni.dev/valid-attachments").addObject().put("containerID", keep).put("ifname", "eth0");
        Exec r = host.cni("nodekit-bridge", "GC", null, null, null, gc.toString());
        assertThat(r.code()).as("%s", r).isZero();
        assertThat(host.allocations(net)).hasSize(1);
        assertThat(host.natRules(net)).allMatch(l -> l.contains(keep) || !l.contains("id: "));
        assertThat(host.natRules(net)).noneMatch(l -> l.contains(drop));
        host.cni("nodekit-bridge", "DEL", ns1, keep, "eth0", conf).check();
        assertThat(host.natRules(net)).isEmpty();
        host.deleteNetns(ns1);
    }

    @Test
    void hundredParallelAddsGetDistinctAddresses() throws Exception {
        host.parallelAddsThenDels(100, Duration.ofMinutes(20), e -> { });
    }

    @Test
    void killNineDuringAddLeavesNothingARetriedDelDoesNotReclaim() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        for (int delayMs : new int[] {30, 120, 250, 400, 600, 900}) {
            Path ns = host.newNetns();
            String id = host.newContainerId();
            Process p = host.start("nodekit-bridge", "ADD", ns, id, conf);
            Thread.sleep(delayMs);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            // The flock child may outlive the JVM by a moment; DEL waits for the lock (bounded).
            host.delReclaimsEverything(delayMs + " ms", ns, id, conf, net, br);
        }
    }

    @Test
    void badInputLeavesNothingBehind() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String subnet = host.freeSubnet();
        String good = host.bridgeConf("1.0.0", net, "nodekit-bridge", br, "nodekit-host-local", ",\"ipMasq\":true", subnet);
        Path ns = host.newNetns();
        String id = host.newContainerId();

        // The interface name is taken in the pod: ADD fails after IPAM, which is undone.
        CniHost.run(List.of("nsenter", "--net=" + ns, "ip", "link", "add", "eth0", "type", "veth", "peer", "name", "x0"),
                java.util.Map.of(), "", java.time.Duration.ofSeconds(30)).check();
        Exec taken = host.cni("nodekit-bridge", "ADD", ns, id, "eth0", good);
        assertThat(taken.code()).as("%s", taken).isNotZero();
        assertThat(taken.json().path("msg").asText()).contains("already exists");
        assertThat(host.allocations(net)).isEmpty();
        assertThat(host.ports(br)).isEmpty();
        assertThat(host.natRules(net)).isEmpty();

        // Unknown IPAM, multicast MAC, subnet with host bits, unsupported macspoofchk: refused without traces.
        List<String> bad = List.of(
                good.replace("nodekit-host-local", "no-such-ipam"),
                good.replace("\"isGateway\":true", "\"isGateway\":true,\"runtimeConfig\":{\"mac\":\"01:00:5e:00:00:01\"}"),
                good.replace(subnet, subnet.replace(".0/24", ".7/24")),
                good.replace("\"ipMasq\":true", "\"ipMasq\":true,\"macspoofchk\":true"));
        for (String conf : bad) {
            Exec e = host.cni("nodekit-bridge", "ADD", ns, id, "eth1", conf);
            assertThat(e.code()).as("%s", e).isNotZero();
            assertThat(e.errorCode()).isPositive();
            assertThat(CniHost.linkIn(ns, "eth1")).isFalse();
            assertThat(host.allocations(net)).isEmpty();
            assertThat(host.ports(br)).isEmpty();
            assertThat(host.natRules(net)).isEmpty();
        }

        // Exhausted pool: the second ADD fails and leaves the first alone.
        String tiny = host.bridgeConf("1.0.0", net, "nodekit-bridge", br, "nodekit-host-local", "",
                subnet.replace(".0/24", ".0/30"));
        Path ns2 = host.newNetns();
        host.cni("nodekit-bridge", "ADD", ns2, "first", "eth0", tiny).check();
        Exec full = host.cni("nodekit-bridge", "ADD", ns, "second", "eth1", tiny);
        assertThat(full.code()).isNotZero();
        assertThat(full.json().path("msg").asText()).contains("no IP addresses available");
        assertThat(CniHost.linkIn(ns, "eth1")).isFalse();
        assertThat(host.allocations(net)).hasSize(1);
        assertThat(host.ports(br)).hasSize(1);
        host.cni("nodekit-bridge", "DEL", ns2, "first", "eth0", tiny).check();
        assertThat(host.allocations(net)).isEmpty();
        host.deleteNetns(ns);
        host.deleteNetns(ns2);
    }

    @Test
    void loopbackBringsLoUp() throws Exception {
        Path ns = host.newNetns();
        String conf = "{\"cniVersion\":\"1.0.0\",\"name\":\"lo\",\"type\":\"nodekit-loopback\"}";
        Exec add = host.cni("nodekit-loopback", "ADD", ns, "lo1", "lo", conf);
        assertThat(add.code()).as("%s", add).isZero();
        JsonNode r = add.json();
        assertThat(r.path("interfaces").get(0).path("name").asText()).isEqualTo("lo");
        assertThat(r.path("ips").get(0).path("address").asText()).isEqualTo("127.0.0.1/8");
        assertThat(CniHost.addrIn(ns, "lo").path("flags").toString()).contains("\"UP\"");
        ObjectNode withPrev = (ObjectNode) CniHost.JSON.readTree(conf);
        withPrev.set("prevResult", r);
        host.cni("nodekit-loopback", "CHECK", ns, "lo1", "lo", withPrev.toString()).check();
        host.cni("nodekit-loopback", "DEL", ns, "lo1", "lo", conf).check();
        assertThat(CniHost.addrIn(ns, "lo").path("flags").toString()).doesNotContain("\"UP\"");
        host.deleteNetns(ns);
        assertThat(host.cni("nodekit-loopback", "DEL", ns, "lo1", "lo", conf).code()).isZero();
    }

    /**
     * The start-up guard on the real bridge path (IPAM in-process, ip/nsenter execs, masquerade): an
     * ADD and a DEL through the installed jars load no gRPC, Netty, databind, OSHI, picocli or
     * protobuf class, and no SLF4J class when nothing is logged (the steady state: the first ADD on a
     * node logs that it created the bridge, so a warm-up ADD/DEL runs first).
     */
    @Test
    void theBridgeExecPathLoadsNothingHeavy() throws Exception {
        String net = host.newNetwork();
        String br = host.newBridge();
        String conf = host.masqBridgeConf("1.0.0", net, br);
        Path ns = host.newNetns();
        String id = host.newContainerId();
        List<String> jars = new ArrayList<>();
        for (String j : List.of("nodekit-cni-plugin.jar", "nodekit-spec.jar", "nodekit-common.jar", "jackson-core.jar",
                "slf4j-api.jar")) {
            jars.add(host.dir.resolve("lib").resolve(j).toString());
        }
        host.cni("nodekit-bridge", "ADD", ns, id, "eth0", conf).check();
        host.cni("nodekit-bridge", "DEL", ns, id, "eth0", conf).check();
        for (String cmd : List.of("ADD", "DEL")) {
            Path log = host.dir.resolve("classes-" + cmd + ".log");
            java.util.Map<String, String> env = new java.util.HashMap<>();
            env.put("CNI_COMMAND", cmd);
            env.put("CNI_CONTAINERID", id);
            env.put("CNI_NETNS", ns.toString());
            env.put("CNI_IFNAME", "eth0");
            env.put("CNI_PATH", host.bin.toString());
            Exec e = CniHost.run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xlog:class+load=info:file=" + log, "-cp", String.join(":", jars),
                    "dev.nodekit.cni.launch.PluginMain", "nodekit-bridge"), env, conf, java.time.Duration.ofSeconds(120));
            assertThat(e.code()).as("%s", e).isZero();
            List<String> loaded = Files.readAllLines(log);
            for (String heavy : List.of("io.grpc.", "io.netty.", "com.fasterxml.jackson.databind.", "oshi.", "picocli.",
                    "org.slf4j.", "com.google.protobuf.")) {
                assertThat(loaded).as("%s %s", cmd, heavy).noneMatch(l -> l.contains(" " + heavy));
            }
        }
        assertThat(host.allocations(net)).isEmpty();
        assertThat(host.natRules(net)).isEmpty();
        host.deleteNetns(ns);
    }
}
