package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class NetConfTest {

    @Test
    void bridgeStdinRoundTripsWithEveryUnknownKey() throws Exception {
        NetConf c = NetConf.parse(Examples.BRIDGE_STDIN);

        assertThat(c.version()).isEqualTo(CniVersion.V1_0_0);
        assertThat(c.name()).contains("k8s-pod-network");
        assertThat(c.type()).isEqualTo("bridge");
        assertThat(c.ipMasq()).contains(true);
        assertThat(c.extra()).containsEntry("bridge", "cni0").containsEntry("isGateway", true)
                .containsEntry("mtu", 1450).containsEntry("x-nullable", null)
                .containsEntry("x-big", new BigInteger("123456789012345678901234567890"))
                .containsEntry("x-float", new BigDecimal("1.25"));
        assertThat(c.extra().get("vlanTrunk")).isEqualTo(List.of(Map.of("id", 101), Map.of("minID", 200, "maxID", 299)));

        RuntimeConfig rc = c.runtimeConfig().orElseThrow();
        assertThat(rc.portMappings()).containsExactly(PortMapping.of(8080, 80, "tcp"),
                new PortMapping(8443, 443, "tcp", Optional.of("192.168.1.10"), Map.of()), PortMapping.of(5353, 53, "udp"));
        assertThat(rc.ips()).containsExactly("10.88.0.42/16", "fd00:10:88::42");
        assertThat(rc.mac()).contains("c2:11:22:33:44:55");
        assertThat(rc.bandwidth().orElseThrow().egressBurst()).isEqualTo(4_000_000L);
        assertThat(rc.dns().orElseThrow().searches()).containsExactly("default.svc.cluster.local");
        assertThat(rc.aliases()).containsExactly("web", "web.default");
        assertThat(rc.cgroupPath()).contains("/kubepods/besteffort/pod1234");
        assertThat(rc.deviceID()).contains("0000:03:00.1");
        assertThat(rc.infinibandGUID()).contains("c2:11:22:33:44:55:66:77");
        assertThat(rc.podAnnotations()).containsEntry("team", "net");
        assertThat(rc.extra()).containsKey("x-future-capability");

        assertThat(c.argsCni()).containsEntry("ips", List.of("10.88.0.42"));
        Result prev = c.prevResult().orElseThrow();
        assertThat(prev.cniVersion()).isEqualTo(CniVersion.V1_0_0);
        assertThat(prev.ips()).extracting(IpConfig::address).containsExactly("10.88.0.42/16");
        assertThat(prev.extra()).containsKey("x-ipam-lease");

        assertSameJson(c.toJson(), Examples.BRIDGE_STDIN);
        assertThat(NetConf.parse(c.toJson())).isEqualTo(c);
    }

    @Test
    void hostLocalRangeSetsRoundTrip() throws Exception {
        NetConf c = NetConf.parse(Examples.HOST_LOCAL);
        IpamConfig ipam = c.ipam().orElseThrow();

        assertThat(ipam.type()).contains("host-local");
        assertThat(ipam.ranges()).hasSize(2);
        assertThat(ipam.ranges().get(0)).extracting(IpRange::subnet).containsExactly("10.1.2.0/24", "10.1.4.0/24");
        assertThat(ipam.ranges().get(0).get(0).rangeEnd()).contains("10.1.2.40");
        assertThat(ipam.ranges().get(1).get(0).rangeStart()).contains("3ffe:ffff:0:01ff::0010");
        assertThat(ipam.routes()).extracting(Route::dst).containsExactly("0.0.0.0/0", "192.168.0.0/16", "3ffe:ffff:0:01ff::1/64");
        assertThat(ipam.dataDir()).contains("/run/my-orchestrator/container-ipam-state");
        assertThat(ipam.resolvConf()).contains("/etc/resolv.conf");
        assertThat(ipam.legacyRange()).isEmpty();
        assertThat(ipam.allRanges()).isEqualTo(ipam.ranges());

        assertSameJson(c.toJson(), Examples.HOST_LOCAL);
    }

    @Test
    void hostLocalLegacyRangeComesFirst() throws Exception {
        NetConf c = NetConf.parse(Examples.HOST_LOCAL_LEGACY);
        IpamConfig ipam = c.ipam().orElseThrow();

        assertThat(ipam.legacyRange()).contains(new IpRange("10.10.0.0/16", Optional.of("10.10.1.20"),
                Optional.of("10.10.3.50"), Optional.of("10.10.0.254"), Map.of()));
        assertThat(ipam.allRanges()).extracting(set -> set.get(0).subnet()).containsExactly("10.10.0.0/16", "10.20.0.0/16");
        assertSameJson(c.toJson(), Examples.HOST_LOCAL_LEGACY);
    }

    @Test
    void emptyIpamMeansLayer2AndStaysPresent() throws Exception {
        String json = "{\"cniVersion\":\"1.0.0\",\"name\":\"l2\",\"type\":\"bridge\",\"ipam\":{}}";
        NetConf c = NetConf.parse(json);
        assertThat(c.ipam()).isPresent();
        assertThat(c.ipam().get().type()).isEmpty();
        assertSameJson(c.toJson(), json);
    }

    @Test
    void otherIpamPluginsKeepTheirKeys() throws Exception {
        String json = """
                {"cniVersion": "1.0.0", "name": "s", "type": "macvlan", "master": "eth0",
                 "ipam": {"type": "static", "addresses": [{"address": "10.10.0.1/24", "gateway": "10.10.0.254"}],
                          "routes": [{"dst": "0.0.0.0/0"}], "dns": {"nameservers": ["8.8.8.8"]}}}
                """;
        NetConf c = NetConf.parse(json);
        assertThat(c.ipam().orElseThrow().extra()).containsKeys("addresses", "dns");
        assertSameJson(c.toJson(), json);
    }

    @Test
    void gcAttachmentsAreReadFromEitherKey() throws Exception {
        NetConf gc = NetConf.parse(Examples.GC);
        List<GcAttachment> expected = List.of(new GcAttachment("3f6940ab5ab43bc5", "eth0"),
                new GcAttachment("9b2c11aa00ff", "net1"));
        assertThat(gc.gcAttachments()).contains(expected);
        assertSameJson(gc.toJson(), Examples.GC);

        NetConf older = NetConf.parse(Examples.GC.replace("\"cni.dev/valid-attachments\"", "\"x-other\""));
        assertThat(older.gcAttachments()).contains(expected);

        NetConf plain = NetConf.parse(Examples.HOST_LOCAL);
        assertThat(plain.gcAttachments()).isEmpty();

        NetConf built = plain.withGcAttachments(expected);
        assertThat(built.gcAttachments()).contains(expected);
        assertThat(JsonTrees.tree(built.toJson()).get("cni.dev/attachments"))
                .isEqualTo(JsonTrees.tree(built.toJson()).get("cni.dev/valid-attachments"));

        NetConf nothingValid = NetConf.parse("{\"type\":\"bridge\",\"cni.dev/valid-attachments\":null}");
        assertThat(nothingValid.gcAttachments()).contains(List.of());
    }

    @Test
    void prevResultWithoutVersionTakesTheConfigVersionEvenWhenDeclaredAfterIt() throws Exception {
        String json = """
                {"type": "portmap", "prevResult": {"ips": [{"version": "4", "address": "10.0.0.2/24"}]},
                 "name": "n", "cniVersion": "0.4.0"}
                """;
        NetConf c = NetConf.parse(json);
        assertThat(c.prevResult().orElseThrow().cniVersion()).isEqualTo(CniVersion.V0_4_0);
        assertSameJson(c.prevResult().get().toJson(),
                "{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"4\",\"address\":\"10.0.0.2/24\"}]}");
    }

    @Test
    void configWithoutVersionIs010() throws Exception {
        NetConf c = NetConf.parse("{\"name\":\"old\",\"type\":\"bridge\"}");
        assertThat(c.cniVersion()).isEmpty();
        assertThat(c.version()).isEqualTo(CniVersion.V0_1_0);
        assertSameJson(c.toJson(), "{\"name\":\"old\",\"type\":\"bridge\"}");
    }

    @Test
    void withersBuildWhatTheRuntimeSends() throws Exception {
        NetConf plugin = NetConfList.parse(Examples.CONFLIST).plugins().get(2);
        RuntimeConfig rc = RuntimeConfig.empty().withPortMappings(List.of(PortMapping.of(8080, 80, "tcp")));
        Result prev = Result.parse(Examples.bridgeResult("1.1.0"));

        NetConf sent = plugin.forNetwork(CniVersion.V1_1_0, "dbnet").withRuntimeConfig(rc).withPrevResult(prev);

        String expected = """
                {"cniVersion": "1.1.0", "name": "dbnet", "type": "portmap",
                 "runtimeConfig": {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]},
                 "prevResult": %s}
                """.formatted(Examples.bridgeResult("1.1.0"));
        assertSameJson(sent.toJson(), expected);
        assertThat(plugin.hasCapability("portMappings")).isTrue();
        assertThat(plugin.hasCapability("mac")).isFalse();
    }

    @Test
    void extraCannotShadowAKnownKey() {
        assertThatThrownBy(() -> new NetConf(Optional.empty(), Optional.empty(), "bridge", Map.of(), Optional.empty(),
                Optional.empty(), Optional.empty(), Map.of(), Optional.empty(), Optional.empty(), Map.of("ipam", Map.of())))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("ipam: is a known field");
    }

    static Stream<Arguments> badConfigs() {
        return Stream.of(
                Arguments.of("{\"name\":\"n\"}", 7, "type: required"),
                Arguments.of("{\"type\":\"../../bin/sh\"}", 7, "type: '../../bin/sh' must not contain a path separator"),
                Arguments.of("{\"type\":\"bridge\",\"name\":\"-net\"}", 7, "name: '-net' is not a valid network name"),
                Arguments.of("{\"type\":\"bridge\",\"name\":\"a/b\"}", 7, "name: 'a/b' is not a valid network name"),
                Arguments.of("{\"type\":\"bridge\",\"cniVersion\":\"v1\"}", 7,
                        "cniVersion: 'v1' is not a CNI version (expected MAJOR.MINOR.PATCH)"),
                Arguments.of("{\"type\":\"bridge\",\"cniVersion\":1.0}", 6, "cniVersion: expected a string, got a number"),
                Arguments.of("{\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.1.0.0/16\"},"
                        + "{\"subnet\":\"10.2.0.0\"}]]}}", 7,
                        "ipam.ranges[0][1].subnet: '10.2.0.0' is not a CIDR (expected ADDRESS/PREFIX)"),
                Arguments.of("{\"type\":\"bridge\",\"ipam\":{\"ranges\":[[]]}}", 7, "ipam.ranges[0]: empty range set"),
                Arguments.of("{\"type\":\"bridge\",\"ipam\":{\"ranges\":[{\"subnet\":\"10.1.0.0/16\"}]}}", 6,
                        "ipam.ranges[0]: expected a range set (an array of ranges), got an object"),
                Arguments.of("{\"type\":\"bridge\",\"ipam\":{\"rangeStart\":\"10.1.1\"}}", 7,
                        "ipam.rangeStart: '10.1.1' is not an IP address"),
                Arguments.of("{\"type\":\"bridge\",\"ipam\":{\"routes\":[{\"dst\":\"0.0.0.0/33\"}]}}", 7,
                        "ipam.routes[0].dst: '0.0.0.0/33' is not a CIDR"),
                Arguments.of("{\"type\":\"portmap\",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":70000,"
                        + "\"containerPort\":80,\"protocol\":\"tcp\"}]}}", 7,
                        "runtimeConfig.portMappings[0].hostPort: 70000 is not a port (1-65535)"),
                Arguments.of("{\"type\":\"portmap\",\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":80,"
                        + "\"containerPort\":80}]}}", 7, "runtimeConfig.portMappings[0].protocol: required"),
                Arguments.of("{\"type\":\"tuning\",\"runtimeConfig\":{\"mac\":\"c2:11:22:33:44\"}}", 7,
                        "runtimeConfig.mac: 'c2:11:22:33:44' is not a MAC address"),
                Arguments.of("{\"type\":\"host-local\",\"runtimeConfig\":{\"ips\":[\"10.0.0.1\",\"10.0.0.300/24\"]}}", 7,
                        "runtimeConfig.ips[1]: '10.0.0.300/24' is not an IP address or CIDR"),
                Arguments.of("{\"type\":\"host-local\",\"runtimeConfig\":{\"ips\":[\"10.0.0.1\",7]}}", 6,
                        "runtimeConfig.ips[1]: expected a string, got a number"),
                Arguments.of("{\"type\":\"bandwidth\",\"runtimeConfig\":{\"bandwidth\":{\"ingressRate\":-1}}}", 7,
                        "runtimeConfig.bandwidth.ingressRate: -1 is negative"),
                Arguments.of("{\"type\":\"host-local\",\"runtimeConfig\":{\"ipRanges\":[[{\"rangeStart\":\"10.0.0.1\"}]]}}", 7,
                        "runtimeConfig.ipRanges[0][0].subnet: required"),
                Arguments.of("{\"type\":\"x\",\"runtimeConfig\":{\"io.kubernetes.cri.pod-annotations\":{\"a\":1}}}", 6,
                        "runtimeConfig.io.kubernetes.cri.pod-annotations.a: expected a string, got a number"),
                Arguments.of("{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":\"yes\"}}", 6,
                        "capabilities.portMappings: expected true or false, got a string"),
                Arguments.of("{\"type\":\"bridge\",\"ipMasq\":\"true\"}", 6, "ipMasq: expected true or false, got a string"),
                Arguments.of("{\"type\":\"bridge\",\"args\":[1]}", 6, "args: expected an object, got an array"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"type\":\"portmap\",\"prevResult\":{\"cniVersion\":\"1.0.0\","
                        + "\"ips\":[{\"address\":\"10.0.0.1\"}]}}", 7,
                        "prevResult.ips[0].address: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"type\":\"portmap\",\"prevResult\":{\"cniVersion\":\"9.9.9\"}}", 1,
                        "prevResult.cniVersion: unsupported result version 9.9.9"),
                Arguments.of("{\"type\":\"bridge\",\"cni.dev/valid-attachments\":[{\"containerID\":\"abc\"}]}", 7,
                        "cni.dev/valid-attachments[0].ifname: required (non-empty string)"),
                Arguments.of("{\"type\":\"bridge\",\"cni.dev/attachments\":{\"containerID\":\"abc\"}}", 7,
                        "cni.dev/attachments: expected an array of {containerID, ifname}"),
                Arguments.of("{\"type\":\"bridge\",\"dns\":{\"nameservers\":\"10.0.0.1\"}}", 6,
                        "dns.nameservers: expected an array, got a string"),
                Arguments.of("{\"type\":\"bridge\"", 6, "invalid JSON at line 1"),
                Arguments.of("\"bridge\"", 6, "expected a network configuration object, got a string"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("badConfigs")
    void badConfigsNameTheField(String json, int code, String message) {
        assertThatThrownBy(() -> NetConf.parse(json))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.getMessage()).startsWith(message);
                    assertThat(e.code()).isEqualTo(code);
                });
    }

    @Test
    void bytesInAnyUnicodeEncodingAreAccepted() throws Exception {
        byte[] utf16 = Examples.HOST_LOCAL.getBytes(java.nio.charset.StandardCharsets.UTF_16BE);
        assertSameJson(NetConf.parse(utf16).toJson(), Examples.HOST_LOCAL);
    }
}
