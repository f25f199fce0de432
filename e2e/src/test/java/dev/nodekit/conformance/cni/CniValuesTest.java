package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** The small pure pieces: addresses, versions, subnet choice, generated/adapted configs, the IPAM dir reader. */
class CniValuesTest {
    @TempDir
    Path dir;

    @Test
    void cidrParsesLiteralsOnly() {
        IpCidr c = IpCidr.parse("10.213.77.2/24");
        assertThat(c.family()).isEqualTo(4);
        assertThat(c.network()).hasToString("10.213.77.0/24");
        assertThat(c.contains(IpCidr.parseAddress("10.213.77.254"))).isTrue();
        assertThat(c.contains(IpCidr.parseAddress("10.213.78.1"))).isFalse();
        assertThat(IpCidr.parse("fd00:0:0::0:5/64")).hasToString("fd00::5/64");
        assertThat(IpCidr.parse("FD00:1:0:0:1:0:0:1/64").network()).hasToString("fd00:1::/64");
        assertThat(IpCidr.canonical(IpCidr.parseAddress("2001:db8:0:0:1:0:0:1"))).isEqualTo("2001:db8::1:0:0:1");
        assertThat(IpCidr.canonical(IpCidr.parseAddress("::"))).isEqualTo("::");
        assertThat(IpCidr.canonical(IpCidr.parseAddress("1:0:2:3:4:5:6:7"))).isEqualTo("1:0:2:3:4:5:6:7");
        // Never resolved: a name, an octal-looking quad, a zone, brackets are all rejected up front.
        for (String bad : List.of("localhost", "gateway.example", "010.1.1.1", "10.1.1", "fe80::1%eth0", "[::1]",
                "256.1.1.1", "abc")) {
            assertThatThrownBy(() -> IpCidr.parseAddress(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> IpCidr.parse("10.0.0.1")).hasMessageContaining("no /prefix");
        assertThatThrownBy(() -> IpCidr.parse("10.0.0.1/x")).hasMessageContaining("invalid prefix");
        assertThatThrownBy(() -> IpCidr.parse("fd00::1/129")).hasMessageContaining("out of range");
        assertThat(IpCidr.parse("10.0.0.0/8").overlaps(IpCidr.parse("10.200.1.0/24"))).isTrue();
        assertThat(IpCidr.parse("10.200.1.0/24").overlaps(IpCidr.parse("10.200.2.0/24"))).isFalse();
        assertThat(IpCidr.parse("10.200.1.0/24").overlaps(IpCidr.parse("fd00::/8"))).isFalse();
    }

    @Test
    void versions() {
        assertThat(CniVersions.token("0.3.1")).isEqualTo("v031");
        assertThat(CniVersions.token("1.1.0")).isEqualTo("v110");
        assertThat(CniVersions.compare("0.10.0", "0.4.0")).isPositive();
        assertThat(CniVersions.atLeast("1.0.0", "1.0.0")).isTrue();
        assertThat(CniVersions.atLeast("0.4.0", "1.0.0")).isFalse();
        assertThat(CniVersions.parseList(" 1.0.0,0.4.0,1.0.0 ")).containsExactly("0.4.0", "1.0.0");
        assertThatThrownBy(() -> CniVersions.parseList("0.2.0")).hasMessageContaining("not one of");
        assertThatThrownBy(() -> CniVersions.parseList(",")).hasMessageContaining("no version");
        assertThat(CniVersions.knownAmong(List.of("0.1.0", "0.2.0", "1.0.0", "0.3.0"))).containsExactly("0.3.0", "1.0.0");
        assertThat(CniVersions.isVersion("1.0")).isFalse();
        assertThat(CniVersions.isVersion("01.0.0")).isFalse();
    }

    @Test
    void subnetAvoidsEverythingInUse() throws IOException {
        List<IpCidr> used = new ArrayList<>(List.of(IpCidr.parse("192.0.2.0/24"), IpCidr.parse("127.0.0.0/8")));
        for (int i = 0; i < 50; i++) {
            IpCidr c = Subnets.pickFree(used, new Random(i));
            assertThat(c.prefixLength()).isEqualTo(24);
            assertThat(used).noneMatch(c::overlaps);
            assertThat(Subnets.isAllowed(c)).isTrue();
            used.add(c);
        }
        // A host that routes all of 10/8 pushes the choice to 172.16/12.
        IpCidr c = Subnets.pickFree(List.of(IpCidr.parse("10.0.0.0/8")), new Random(1));
        assertThat(IpCidr.parse("172.16.0.0/12").overlaps(c)).isTrue();
        assertThat(Subnets.isAllowed(IpCidr.parse("10.88.5.0/24"))).isFalse();
        assertThatThrownBy(() -> Subnets.pickFree(List.of(IpCidr.parse("0.0.0.0/1"), IpCidr.parse("128.0.0.0/1")),
                new Random(1))).isInstanceOf(IOException.class).hasMessageContaining("no free private /24");
    }

    @Test
    void generatedConfigIsBridgeStyleAndSandboxed() {
        ObjectNode base = NetConfs.generated("bridge", "host-local", "nk-abc123", IpCidr.parse("10.201.7.0/24"));
        ObjectNode c = NetConfs.forSandbox(base, "0.4.0", "nkabc123b3", dir.resolve("ipam-3"));
        assertThat(c.get("cniVersion").asText()).isEqualTo("0.4.0");
        assertThat(c.get("type").asText()).isEqualTo("bridge");
        assertThat(c.get("bridge").asText()).isEqualTo("nkabc123b3");
        assertThat(c.get("isGateway").asBoolean()).isTrue();
        assertThat(c.has("ipMasq")).isFalse();
        assertThat(c.at("/ipam/type").asText()).isEqualTo("host-local");
        assertThat(c.at("/ipam/ranges/0/0/subnet").asText()).isEqualTo("10.201.7.0/24");
        assertThat(c.at("/ipam/dataDir").asText()).isEqualTo(dir.resolve("ipam-3").toString());
        assertThat(NetConfs.ipamDir(c)).contains(dir.resolve("ipam-3").resolve("nk-abc123"));
        assertThat(NetConfs.bridge(c)).contains("nkabc123b3");
        assertThat(NetConfs.hasIpam(c)).isTrue();
        assertThat(base.get("bridge").asText()).as("base untouched").isEqualTo("placeholder");
    }

    @Test
    void userConfigsAreAdaptedOnlyWhereTheRunOwnsThings() throws IOException {
        ObjectNode list = NetConfs.fromFile("""
                {"cniVersion":"1.0.0","cniVersions":["1.0.0","1.1.0"],"name":"mynet","plugins":[
                  {"type":"nodekit-bridge","bridge":"cni0","mtu":1400,"capabilities":{"portMappings":true},
                   "ipam":{"type":"nodekit-host-local","subnet":"10.244.0.0/24"}}]}""", "t");
        ObjectNode c = NetConfs.forSandbox(list, "1.1.0", "nkabc123b1", dir);
        assertThat(c.get("name").asText()).isEqualTo("mynet");
        assertThat(c.get("bridge").asText()).isEqualTo("nkabc123b1");
        assertThat(c.get("mtu").asInt()).isEqualTo(1400);
        assertThat(c.has("capabilities")).isFalse();
        assertThat(c.has("cniVersions")).isFalse();
        assertThat(c.at("/ipam/dataDir").asText()).isEqualTo(dir.toString());
        assertThat(c.at("/ipam/subnet").asText()).isEqualTo("10.244.0.0/24");

        ObjectNode ptp = NetConfs.fromFile("{\"cniVersion\":\"0.4.0\",\"name\":\"p\",\"type\":\"ptp\","
                + "\"ipam\":{\"type\":\"static\",\"addresses\":[]}}", "t");
        ObjectNode p = NetConfs.forSandbox(ptp, "0.4.0", "nkabc123b1", dir);
        assertThat(p.has("bridge")).as("no bridge key added").isFalse();
        assertThat(p.at("/ipam").has("dataDir")).as("not a host-local style IPAM").isFalse();
        assertThat(NetConfs.ipamDir(p)).isEmpty();

        assertThatThrownBy(() -> NetConfs.fromFile("{\"name\":\"n\",\"plugins\":[{\"type\":\"a\"},{\"type\":\"b\"}]}", "f"))
                .hasMessageContaining("exactly one plugin").hasMessageContaining("has 2 plugins");
        assertThatThrownBy(() -> NetConfs.fromFile("{\"name\":\"n\",\"type\":\"../../bin/sh\"}", "f"))
                .hasMessageContaining("\"type\" must name a plugin binary");
        assertThatThrownBy(() -> NetConfs.fromFile("{\"name\":\"../x\",\"type\":\"bridge\"}", "f"))
                .hasMessageContaining("\"name\" must start");
        assertThatThrownBy(() -> NetConfs.fromFile("{\"name\":", "f")).hasMessageContaining("not valid JSON");
    }

    @Test
    void ipamDirKeepsBookkeepingApart() throws IOException {
        assertThat(IpamDir.allocations(dir.resolve("missing"))).isEmpty();
        for (String f : List.of("lock", "last_reserved_ip.0", "last_reserved_ip.1", "10.201.7.2", "fd00::5",
                ".nodekit-format")) {
            Files.writeString(dir.resolve(f), "x");
        }
        assertThat(IpamDir.allocations(dir)).containsExactly("10.201.7.2", "fd00::5");
        assertThat(IpamDir.holds(dir, IpCidr.parseAddress("fd00:0::5"))).isTrue();
        assertThat(IpamDir.holds(dir, IpCidr.parseAddress("10.201.7.3"))).isFalse();
    }
}
