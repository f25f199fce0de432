package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class ResultTest {

    static final List<String> RICH = List.of("0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0");

    static Stream<Arguments> richPairs() {
        List<Arguments> out = new ArrayList<>();
        for (String from : RICH) {
            for (String to : RICH) {
                out.add(Arguments.of(from, to));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} round trip")
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    void bridgeResultRoundTripsInEveryRichVersion(String version) throws Exception {
        String json = Examples.bridgeResult(version);
        Result r = Result.parse(json);

        assertThat(r.cniVersion()).isEqualTo(CniVersion.parse(version));
        assertThat(r.interfaces()).extracting(Interface::name).containsExactly("cni0", "veth3a8e5f1c", "eth0");
        assertThat(r.interfaces().get(2).sandbox()).contains("/var/run/netns/blue");
        assertThat(r.ips()).extracting(IpConfig::family).containsExactly(4, 6);
        assertThat(r.ips().get(0).interfaceIndex()).hasValue(2);
        assertThat(r.ips().get(0).extra()).containsEntry("x-lease", 3600);
        assertThat(r.routes().get(0).gw()).contains("10.88.0.1");
        assertThat(r.dns().orElseThrow().domain()).contains("cluster.local");
        assertThat(r.extra()).containsKey("cilium.io/endpoint");
        assertSameJson(r.toJson(), json);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("richPairs")
    void convertsBetweenEveryPairOfRichVersions(String from, String to) throws Exception {
        Result source = Result.parse(Examples.bridgeResult(from));

        Result converted = source.convertTo(CniVersion.parse(to));

        assertThat(converted.cniVersion()).isEqualTo(CniVersion.parse(to));
        assertSameJson(converted.toJson(), Examples.bridgeResult(to));
        assertSameJson(source.toJson(CniVersion.parse(to)), Examples.bridgeResult(to));
        assertSameJson(source.convertTo(CniVersion.parse(to), DataLoss.DROP).toJson(), Examples.bridgeResult(to));
        // And back: nothing was lost on the way.
        assertSameJson(converted.convertTo(CniVersion.parse(from)).toJson(), Examples.bridgeResult(from));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0"})
    void dropsOnlyWithDataLossDropWhenGoingBelow110(String target) throws Exception {
        Result r = Result.parse(Examples.RESULT_110_ATTRS);
        assertSameJson(r.toJson(), Examples.RESULT_110_ATTRS);

        assertThatThrownBy(() -> r.convertTo(CniVersion.parse(target)))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
                    assertThat(e.getMessage()).startsWith("interfaces[0].mtu: is new in 1.1.0")
                            .contains("to " + target);
                });

        Result dropped = r.convertTo(CniVersion.parse(target), DataLoss.DROP);
        assertSameJson(dropped.toJson(), Examples.result110AttrsDropped(target));
    }

    @Test
    void rejectsTheFirstRouteAttributeWhenInterfacesAreClean() throws Exception {
        Result r = Result.parse("""
                {"cniVersion": "1.1.0", "ips": [{"address": "10.0.0.2/24"}],
                 "routes": [{"dst": "10.1.0.0/16"}, {"dst": "0.0.0.0/0", "table": 100}]}
                """);
        assertThatThrownBy(() -> r.convertTo(CniVersion.V1_0_0))
                .hasMessageStartingWith("routes[1].table: is new in 1.1.0");
    }

    @Test
    void keeps110AttributesWrittenInA100ResultAsGoDoes() throws Exception {
        // Go's 1.0.0 and 1.1.0 share one struct, so a 1.0.0 result may carry route mtu; read and write it back.
        String json = """
                {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}], "routes": [{"dst": "0.0.0.0/0", "mtu": 1400}]}
                """;
        Result r = Result.parse(json);
        assertSameJson(r.toJson(), json);
        assertSameJson(r.convertTo(CniVersion.V1_1_0).toJson(), json.replace("1.0.0", "1.1.0"));
        assertThatThrownBy(() -> r.convertTo(CniVersion.V0_4_0)).hasMessageStartingWith("routes[0].mtu:");
    }

    // ------------------------------------------------------------------ 0.1.0 / 0.2.0

    @Test
    void legacyResultRoundTripsAndConvertsUp() throws Exception {
        Result legacy = Result.parse(Examples.BRIDGE_RESULT_020);
        assertThat(legacy.isLegacy()).isTrue();
        assertThat(legacy.interfaces()).isEmpty();
        assertThat(legacy.ips()).extracting(IpConfig::address).containsExactly("10.88.0.5/16", "fd00:10:88::5/64");
        assertThat(legacy.routes()).extracting(Route::dst).containsExactly("0.0.0.0/0", "::/0");
        assertSameJson(legacy.toJson(), Examples.BRIDGE_RESULT_020);

        for (String to : RICH) {
            String expected = Examples.bridgeResult(to);
            // The rich form of the same content: no interfaces, no interface indexes, no interface extras.
            Result up = legacy.convertTo(CniVersion.parse(to));
            Result fromRich = Result.parse(expected);
            Result richWithoutInterfaces = new Result(fromRich.cniVersion(), List.of(),
                    List.of(fromRich.ips().get(0).withoutInterface(), fromRich.ips().get(1).withoutInterface()),
                    fromRich.routes(), fromRich.dns(), fromRich.extra());
            assertSameJson(up.toJson(), richWithoutInterfaces.toJson());
        }
    }

    @Test
    void legacyResultConvertsBetween010And020() throws Exception {
        Result r = Result.parse(Examples.BRIDGE_RESULT_020).convertTo(CniVersion.V0_1_0);
        assertSameJson(r.toJson(), Examples.BRIDGE_RESULT_020.replace("\"0.2.0\"", "\"0.1.0\""));
    }

    @Test
    void legacyResultsWithoutAddressStillRelabelBetween010And020() throws Exception {
        Result dnsOnly = Result.parse("{\"cniVersion\":\"0.2.0\",\"dns\":{\"nameservers\":[\"10.0.0.1\"]}}");
        assertSameJson(dnsOnly.convertTo(CniVersion.V0_1_0).toJson(),
                "{\"cniVersion\":\"0.1.0\",\"dns\":{\"nameservers\":[\"10.0.0.1\"]}}");
    }

    @Test
    void readsA010ResultWithoutCniVersionWhenTheCallerSaysSo() throws Exception {
        String json = """
                {"ip4": {"ip": "10.1.0.5/16", "gateway": "10.1.0.1", "routes": [{"dst": "0.0.0.0/0"}]},
                 "dns": {"nameservers": ["10.1.0.1"]}}
                """;
        assertThatThrownBy(() -> Result.parse(json))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.getMessage()).isEqualTo("cniVersion: required"));

        Result r = Result.parse(json, CniVersion.V0_1_0);
        assertThat(r.cniVersion()).isEqualTo(CniVersion.V0_1_0);
        assertSameJson(r.convertTo(CniVersion.V1_0_0).toJson(), """
                {"cniVersion": "1.0.0", "ips": [{"address": "10.1.0.5/16", "gateway": "10.1.0.1"}],
                 "routes": [{"dst": "0.0.0.0/0"}], "dns": {"nameservers": ["10.1.0.1"]}}
                """);
    }

    @ParameterizedTest(name = "{0} -> 0.2.0")
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    void downToLegacyRejectsInterfacesUnlessDropped(String from) throws Exception {
        Result r = Result.parse(Examples.bridgeResult(from));

        assertThatThrownBy(() -> r.convertTo(CniVersion.V0_2_0))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
                    assertThat(e.getMessage()).startsWith("interfaces[0]: 'cni0': a 0.2.0 result has no interfaces");
                });

        assertSameJson(r.convertTo(CniVersion.V0_2_0, DataLoss.DROP).toJson(), Examples.BRIDGE_RESULT_020);
    }

    @Test
    void downToLegacyKeepsTheFirstAddressPerFamilyAndRoutesWithAHome() throws Exception {
        Result ipam = Result.parse("""
                {"cniVersion": "1.0.0",
                 "ips": [{"address": "10.0.0.2/24", "gateway": "10.0.0.1"}, {"address": "10.0.1.2/24"}],
                 "routes": [{"dst": "0.0.0.0/0"}, {"dst": "fd00::/8", "gw": "fd00::1"}]}
                """);
        assertThatThrownBy(() -> ipam.convertTo(CniVersion.V0_2_0))
                .hasMessageStartingWith("ips[1]: '10.0.1.2/24': a 0.2.0 result holds one address per family");

        assertSameJson(ipam.convertTo(CniVersion.V0_2_0, DataLoss.DROP).toJson(), """
                {"cniVersion": "0.2.0", "ip4": {"ip": "10.0.0.2/24", "gateway": "10.0.0.1", "routes": [{"dst": "0.0.0.0/0"}]}}
                """);

        Result single = Result.parse("""
                {"cniVersion": "1.0.0", "ips": [{"address": "10.0.0.2/24"}], "routes": [{"dst": "fd00::/8"}]}
                """);
        assertThatThrownBy(() -> single.convertTo(CniVersion.V0_1_0))
                .hasMessageStartingWith("routes[0]: 'fd00::/8': a 0.1.0 result has no IPv6 address to keep it under");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"0.1.0", "0.2.0"})
    void aResultWithoutAddressCannotBecomeLegacyEvenWhenDropping(String target) throws Exception {
        Result noIps = Result.parse("{\"cniVersion\":\"1.0.0\",\"dns\":{\"nameservers\":[\"10.0.0.1\"]}}");
        assertThatThrownBy(() -> noIps.convertTo(CniVersion.parse(target), DataLoss.DROP))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
                    assertThat(e.getMessage()).contains("it has no IP address");
                });
    }

    @Test
    void refusesUnknownTargetVersions() throws Exception {
        Result r = Result.parse(Examples.bridgeResult("1.1.0"));
        assertThatThrownBy(() -> r.convertTo(CniVersion.parse("1.2.0")))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
                    assertThat(e.getMessage()).contains("1.2.0");
                });
    }

    // ------------------------------------------------------------------ construction

    @Test
    void buildsAResultInCode() {
        Result r = Result.of(CniVersion.V0_4_0,
                List.of(Interface.host("cni0", "0a:58:0a:58:00:01"), Interface.container("eth0", null, "/run/netns/x")),
                List.of(IpConfig.of("10.88.0.5/16", "10.88.0.1").withInterface(1)),
                List.of(Route.of("0.0.0.0/0")),
                Optional.of(Dns.of(List.of("10.88.0.1"), List.of())));
        assertSameJson(r.toJson(), """
                {"cniVersion": "0.4.0",
                 "interfaces": [{"name": "cni0", "mac": "0a:58:0a:58:00:01"}, {"name": "eth0", "sandbox": "/run/netns/x"}],
                 "ips": [{"version": "4", "interface": 1, "address": "10.88.0.5/16", "gateway": "10.88.0.1"}],
                 "routes": [{"dst": "0.0.0.0/0"}],
                 "dns": {"nameservers": ["10.88.0.1"]}}
                """);
    }

    @Test
    void constructorNamesTheField() {
        assertThatThrownBy(() -> IpConfig.of("10.0.0.1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("address: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)");
        assertThatThrownBy(() -> Result.of(CniVersion.V1_0_0, List.of(), List.of(IpConfig.of("10.0.0.1/8").withInterface(0)),
                List.of(), Optional.empty()))
                .hasMessage("ips[0].interface: index 0 is out of range: the result has 0 interface(s)");
        assertThatThrownBy(() -> Result.of(CniVersion.V0_2_0, List.of(Interface.host("a", null)), List.of(), List.of(),
                Optional.empty()))
                .hasMessage("interfaces: a 0.2.0 result has no interfaces");
        assertThatThrownBy(() -> new Route("0.0.0.0/0", Optional.empty(), 0, 0, 0, OptionalInt.empty(),
                OptionalInt.of(300), Map.of()))
                .hasMessage("scope: 300 is not in 0..255");
        assertThatThrownBy(() -> new Route("0.0.0.0/0", Optional.empty(), 0, 0, 0, OptionalInt.empty(),
                OptionalInt.empty(), Map.of("gw", "10.0.0.1")))
                .hasMessageStartingWith("gw: is a known field");
        assertThatThrownBy(() -> new Route("0.0.0.0/0", Optional.empty(), 0, 0, 0, OptionalInt.empty(),
                OptionalInt.empty(), Map.of("x", new Object())))
                .hasMessageStartingWith("x: a java.lang.Object is not a JSON value");
    }

    @Test
    void extraValuesAreDeeplyImmutable() throws Exception {
        Result r = Result.parse(Examples.bridgeResult("1.0.0"));
        @SuppressWarnings("unchecked")
        Map<String, Object> endpoint = (Map<String, Object>) r.extra().get("cilium.io/endpoint");
        assertThatThrownBy(() -> endpoint.put("id", 1)).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> r.ips().add(IpConfig.of("10.0.0.1/8"))).isInstanceOf(UnsupportedOperationException.class);
    }

    // ------------------------------------------------------------------ bad input

    static Stream<Arguments> badResults() {
        return Stream.of(
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1\"}]}",
                        6, "ips[0].address: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"10.0.0.1/24\",\"gateway\":\"10.0.0.300\"}]}",
                        6, "ips[0].gateway: '10.0.0.300' is not an IP address"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}],"
                        + "\"ips\":[{\"address\":\"10.0.0.1/24\",\"interface\":5}]}",
                        6, "ips[0].interface: index 5 is out of range: the result has 1 interface(s)"),
                Arguments.of("{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"6\",\"address\":\"10.0.0.1/24\"}]}",
                        6, "ips[0].version: '6' does not match address '10.0.0.1/24' (IPv4)"),
                Arguments.of("{\"cniVersion\":\"1.1.0\",\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"gw\":\"10.0.0.1\"}]}",
                        6, "routes[1].dst: required"),
                Arguments.of("{\"cniVersion\":\"1.1.0\",\"routes\":[{\"dst\":\"0.0.0.0/0\",\"mtu\":\"1500\"}]}",
                        6, "routes[0].mtu: expected an integer, got a string"),
                Arguments.of("{\"cniVersion\":\"1.1.0\",\"interfaces\":{\"name\":\"eth0\"}}",
                        6, "interfaces: expected an array, got an object"),
                Arguments.of("{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"mac\":\"aa\"}]}",
                        6, "interfaces[0].name: required"),
                Arguments.of("{\"cniVersion\":\"2.0.0\",\"ips\":[]}",
                        1, "cniVersion: unsupported result version 2.0.0"),
                Arguments.of("{\"cniVersion\":\"1.0\"}",
                        6, "cniVersion: '1.0' is not a CNI version (expected MAJOR.MINOR.PATCH)"),
                Arguments.of("{\"cniVersion\":\"0.2.0\",\"ips\":[{\"address\":\"10.0.0.1/24\"}]}",
                        6, "ips: not valid in a 0.2.0 result (results before 0.3.0 use ip4/ip6)"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",\"ip4\":{\"ip\":\"10.0.0.1/24\"}}",
                        6, "ip4: not valid in a 1.0.0 result (ip4/ip6 ended with 0.2.0)"),
                Arguments.of("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"fd00::1/64\"}}",
                        6, "ip4.ip: 'fd00::1/64' is not an IPv4 address"),
                Arguments.of("{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.0.0.1\"}}",
                        6, "ip4.ip: '10.0.0.1' is not a CIDR (expected ADDRESS/PREFIX)"),
                Arguments.of("{\"cniVersion\":\"0.2.0\",\"ip6\":{\"ip\":\"fd00::1/64\",\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}}",
                        6, "ip6.routes[0].dst: '0.0.0.0/0' is not an IPv6 destination"),
                Arguments.of("{\"cniVersion\":\"1.0.0\",", 6, "invalid JSON at line 1"),
                Arguments.of("{\"cniVersion\":\"1.0.0\"} {}", 6, "unexpected content after the JSON document"),
                Arguments.of("[]", 6, "expected a result object, got an array"),
                Arguments.of("", 6, "expected a result object, got end of input"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("badResults")
    void badResultsNameTheField(String json, int code, String message) {
        assertThatThrownBy(() -> Result.parse(json))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.getMessage()).startsWith(message);
                    assertThat(e.code()).isEqualTo(code);
                });
    }
}
