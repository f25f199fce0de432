package dev.nodekit.conformance.cni;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** The result/error/VERSION/link rules as plain functions: what the Go plugins write passes; each single defect is named. */
class CniResultRulesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String NS = "/var/run/netns/nk-abc123-1";

    /** A bridge+host-local ADD result exactly as the Go plugins 1.1.1 write it. */
    static ObjectNode goResult(String version) throws IOException {
        String ipVersion = CniVersions.atLeast(version, "1.0.0") ? "" : "\"version\": \"4\",";
        return (ObjectNode) JSON.readTree("""
                {"cniVersion": "%s",
                 "interfaces": [{"name": "nkabc123b1", "mac": "ba:4f:a8:49:47:ba"},
                                {"name": "vethcf087b8a", "mac": "a2:ae:56:11:40:c3"},
                                {"name": "eth0", "mac": "52:4d:25:86:b5:ae", "sandbox": "%s"}],
                 "ips": [{%s "interface": 2, "address": "10.213.77.2/24", "gateway": "10.213.77.1"}],
                 "routes": [{"dst": "0.0.0.0/0", "gw": "10.213.77.1"}],
                 "dns": {}}""".formatted(version, NS, ipVersion));
    }

    static List<String> problems(String version, Consumer<ObjectNode> defect) throws IOException {
        ObjectNode r = goResult(version);
        defect.accept(r);
        return CniResultRules.addResult(r, version, "eth0", NS, true);
    }

    static ObjectNode ip0(ObjectNode r) {
        return (ObjectNode) r.get("ips").get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0"})
    void goResultsConform(String v) throws IOException {
        assertThat(CniResultRules.addResult(goResult(v), v, "eth0", NS, true)).isEmpty();
    }

    @Test
    void cniVersionMustEchoTheRequest() throws IOException {
        assertThat(problems("1.0.0", r -> r.put("cniVersion", "0.4.0"))).singleElement().asString()
                .contains("cniVersion is \"0.4.0\", expected the requested \"1.0.0\"");
        assertThat(problems("1.0.0", r -> r.remove("cniVersion"))).singleElement().asString().contains("cniVersion is null");
    }

    @Test
    void ipsVersionPresentBefore100AndAbsentFrom100() throws IOException {
        assertThat(problems("1.0.0", r -> ip0(r).put("version", "4"))).singleElement().asString()
                .contains("removed in 1.0.0");
        assertThat(problems("0.4.0", r -> ip0(r).remove("version"))).singleElement().asString()
                .contains("has no \"version\"");
        assertThat(problems("0.3.1", r -> ip0(r).put("version", "6"))).singleElement().asString()
                .contains("\"6\" but the address is IPv4");
        assertThat(problems("0.3.0", r -> ip0(r).put("version", 4))).singleElement().asString()
                .contains("must be \"4\" or \"6\"");
    }

    @Test
    void interfaceIndexMustExistAndBeInRange() throws IOException {
        assertThat(problems("1.0.0", r -> ip0(r).remove("interface"))).anySatisfy(p -> assertThat(p)
                .contains("has no \"interface\" index"));
        assertThat(problems("1.0.0", r -> ip0(r).put("interface", 3))).anySatisfy(p -> assertThat(p)
                .contains("ips[0].interface 3 is not an index into interfaces (3 entries)"));
        assertThat(problems("1.0.0", r -> ip0(r).put("interface", "2"))).anySatisfy(p -> assertThat(p)
                .contains("is not an index"));
        assertThat(problems("1.0.0", r -> ip0(r).put("interface", 0))).singleElement().asString()
                .contains("no ips entry has interface = 2");
    }

    @Test
    void containerInterfaceNeedsItsSandbox() throws IOException {
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("interfaces").get(2)).remove("sandbox")))
                .singleElement().asString().contains("sandbox = CNI_NETNS");
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("interfaces").get(2)).put("sandbox", "/proc/1/ns/net")))
                .singleElement().asString().contains("has sandbox \"/proc/1/ns/net\"");
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("interfaces").get(2)).put("name", "eth1")))
                .anySatisfy(p -> assertThat(p).contains("no entry named eth0"));
        assertThat(problems("1.0.0", r -> r.remove("interfaces"))).anySatisfy(p -> assertThat(p)
                .contains("no entry named eth0"));
    }

    @Test
    void addressesAndGatewaysAreCheckedAsIps() throws IOException {
        assertThat(problems("1.0.0", r -> ip0(r).put("address", "10.213.77.2"))).singleElement().asString()
                .contains("not in CIDR notation");
        assertThat(problems("1.0.0", r -> ip0(r).put("address", "pod.example/24"))).singleElement().asString()
                .contains("not an IPv4 or IPv6 address literal");
        assertThat(problems("1.0.0", r -> ip0(r).put("address", "10.213.77.2/33"))).singleElement().asString()
                .contains("out of range");
        assertThat(problems("1.0.0", r -> ip0(r).put("gateway", "10.213.78.1"))).singleElement().asString()
                .contains("gateway 10.213.78.1 is not inside 10.213.77.0/24");
        assertThat(problems("1.0.0", r -> ip0(r).put("gateway", "fd00::1"))).singleElement().asString()
                .contains("is not inside");
        assertThat(problems("1.0.0", r -> ip0(r).put("gateway", "router"))).singleElement().asString()
                .contains("is not an IP address");
    }

    @Test
    void ipsRequiredWhenTheConfigHasAnIpam() throws IOException {
        assertThat(problems("1.0.0", r -> r.remove("ips"))).singleElement().asString().contains("ips is missing");
        ObjectNode noIps = goResult("1.0.0");
        noIps.remove("ips");
        assertThat(CniResultRules.addResult(noIps, "1.0.0", "eth0", NS, false)).isEmpty();
        assertThat(problems("1.0.0", r -> r.put("ips", "10.0.0.1/24"))).anySatisfy(p -> assertThat(p)
                .contains("ips is not a list"));
    }

    @Test
    void otherFieldsHaveTheirTypes() throws IOException {
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("interfaces").get(1)).put("mac", "not-a-mac")))
                .singleElement().asString().contains("interfaces[1].mac \"not-a-mac\" is not a hardware address");
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("interfaces").get(0)).remove("name")))
                .singleElement().asString().contains("interfaces[0] has no name");
        assertThat(problems("1.1.0", r -> ((ObjectNode) r.get("interfaces").get(2)).put("mtu", "1500")))
                .singleElement().asString().contains("mtu is not an integer");
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("routes").get(0)).put("dst", "default")))
                .singleElement().asString().contains("routes[0].dst");
        assertThat(problems("1.0.0", r -> ((ObjectNode) r.get("routes").get(0)).put("gw", "x")))
                .singleElement().asString().contains("routes[0].gw");
        assertThat(problems("1.0.0", r -> r.put("dns", "8.8.8.8"))).singleElement().asString()
                .contains("dns is not an object");
        assertThat(CniResultRules.addResult(JSON.createArrayNode(), "1.0.0", "eth0", NS, true)).singleElement()
                .asString().contains("not a JSON object");
    }

    @Test
    void ipv6ResultsConform() throws IOException {
        ObjectNode r = goResult("0.4.0");
        ip0(r).put("version", "6").put("address", "fd00:10::5/64").put("gateway", "fd00:10::1");
        assertThat(CniResultRules.addResult(r, "0.4.0", "eth0", NS, true)).isEmpty();
        assertThat(CniResultRules.addressesOn(r, 2)).extracting(Object::toString).containsExactly("fd00:10::5/64");
    }

    @Test
    void versionAnswer() throws IOException {
        JsonNode go = JSON.readTree("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.1.0\",\"0.2.0\",\"0.3.0\","
                + "\"0.3.1\",\"0.4.0\",\"1.0.0\"]}");
        assertThat(CniResultRules.versionAnswer(go, "0.4.0")).isEmpty();
        assertThat(CniResultRules.versionAnswer(go, "1.1.0")).singleElement().asString()
                .contains("does not contain the requested 1.1.0");
        assertThat(CniResultRules.versionAnswer(JSON.readTree("{\"supportedVersions\":[\"1.0.0\"]}"), "1.0.0"))
                .singleElement().asString().contains("no cniVersion");
        assertThat(CniResultRules.versionAnswer(JSON.readTree("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":\"1.0.0\"}"),
                "1.0.0")).singleElement().asString().contains("no supportedVersions list");
        assertThat(CniResultRules.versionAnswer(JSON.readTree("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[1,\"1.0.0\"]}"),
                "1.0.0")).singleElement().asString().contains("non-version entry 1");
    }

    @Test
    void errorAnswer() {
        String goError = "{\n    \"code\": 4,\n    \"msg\": \"required env variables [CNI_NETNS] missing\"\n}";
        assertThat(CniResultRules.errorAnswer(1, goError)).isEmpty();
        assertThat(CniResultRules.errorAnswer(1, "{\"cniVersion\":\"1.1.0\",\"code\":7,\"msg\":\"x\",\"details\":\"y\"}"))
                .isEmpty();
        assertThat(CniResultRules.errorAnswer(0, goError)).singleElement().asString().contains("exit code is 0");
        assertThat(CniResultRules.errorAnswer(1, "")).singleElement().asString().contains("stdout is empty");
        assertThat(CniResultRules.errorAnswer(1, "failed: no netns")).singleElement().asString()
                .contains("must be JSON on stdout");
        assertThat(CniResultRules.errorAnswer(1, "{\"msg\":\"x\"}")).singleElement().asString().contains("no integer code");
        assertThat(CniResultRules.errorAnswer(1, "{\"code\":\"4\",\"msg\":\"x\"}")).singleElement().asString()
                .contains("no integer code");
        assertThat(CniResultRules.errorAnswer(1, "{\"code\":4}")).singleElement().asString().contains("no msg");
        assertThat(CniResultRules.errorAnswer(1, "{\"code\":4,\"msg\":\"x\",\"details\":{}}")).singleElement()
                .asString().contains("details is not a string");
        assertThat(CniResultRules.errorAnswer(1, "[]")).singleElement().asString().contains("not a JSON object");
    }

    @Test
    void stdoutMustBeOneJsonValue() {
        assertThatThrownBy(() -> CniResultRules.parseStdout("{\"code\":1,\"msg\":\"x\"}\nlog: done"))
                .isInstanceOf(IOException.class).hasMessageContaining("not one JSON value");
        assertThatThrownBy(() -> CniResultRules.parseStdout(" \n")).hasMessageContaining("empty");
    }

    @Test
    void linkState() throws IOException {
        JsonNode link = JSON.readTree("""
                {"ifindex":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"operstate":"UP",
                 "address":"52:4d:25:86:b5:ae","addr_info":[{"family":"inet","local":"10.213.77.2","prefixlen":24},
                 {"family":"inet6","local":"fe80::504d:25ff:fe86:b5ae","prefixlen":64}]}""");
        List<IpCidr> claimed = List.of(IpCidr.parse("10.213.77.2/24"));
        assertThat(CniResultRules.linkState(link, "eth0", Optional.of("52:4D:25:86:B5:AE"), claimed)).isEmpty();
        assertThat(CniResultRules.linkState(link, "eth0", Optional.of("02:00:00:00:00:01"), claimed)).singleElement()
                .asString().contains("has MAC 52:4d:25:86:b5:ae but the result claims 02:00:00:00:00:01");
        assertThat(CniResultRules.linkState(link, "eth0", Optional.empty(), List.of(IpCidr.parse("10.213.77.3/24"))))
                .singleElement().asString().contains("does not have 10.213.77.3/24");
        assertThat(CniResultRules.linkState(link, "eth0", Optional.empty(), List.of(IpCidr.parse("10.213.77.2/16"))))
                .singleElement().asString().contains("does not have 10.213.77.2/16");
        ((ArrayNode) ((ObjectNode) link).withArray("flags")).remove(2);
        assertThat(CniResultRules.linkState(link, "eth0", Optional.empty(), claimed)).singleElement().asString()
                .contains("is not up");
        assertThat(CniResultRules.hasAddress(link, IpCidr.parseAddress("10.213.77.2"))).isTrue();
        assertThat(CniResultRules.hasAddress(link, IpCidr.parseAddress("10.213.77.1"))).isFalse();
    }
}
