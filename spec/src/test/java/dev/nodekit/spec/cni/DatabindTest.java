package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.MAPPER;
import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;

/** The same documents through a plain ObjectMapper: annotations route databind to the streaming codec. */
class DatabindTest {

    static Stream<Arguments> documents() {
        return Stream.of(
                Arguments.of(NetConfList.class, Examples.CONFLIST),
                Arguments.of(NetConf.class, Examples.BRIDGE_STDIN),
                Arguments.of(NetConf.class, Examples.HOST_LOCAL),
                Arguments.of(NetConf.class, Examples.GC),
                Arguments.of(Result.class, Examples.bridgeResult("0.4.0")),
                Arguments.of(Result.class, Examples.bridgeResult("1.1.0")),
                Arguments.of(Result.class, Examples.BRIDGE_RESULT_020),
                Arguments.of(Result.class, Examples.RESULT_110_ATTRS),
                Arguments.of(CniError.class, Examples.ERROR),
                Arguments.of(VersionInfo.class, Examples.VERSION),
                Arguments.of(IpamConfig.class, "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.0.0.0/8\"}]],\"x\":1}"),
                Arguments.of(RuntimeConfig.class, "{\"portMappings\":[{\"hostPort\":80,\"containerPort\":8080,\"protocol\":\"tcp\"}]}"),
                Arguments.of(IpRange.class, "{\"subnet\":\"fd00::/64\",\"gateway\":\"fd00::1\"}"),
                Arguments.of(Route.class, "{\"dst\":\"0.0.0.0/0\",\"gw\":\"10.0.0.1\",\"scope\":0}"),
                Arguments.of(Interface.class, "{\"name\":\"eth0\",\"sandbox\":\"/run/netns/x\"}"),
                Arguments.of(IpConfig.class, "{\"address\":\"10.0.0.2/24\",\"interface\":0}"),
                Arguments.of(Dns.class, "{\"nameservers\":[\"10.0.0.1\"]}"),
                Arguments.of(RuntimeDns.class, "{\"servers\":[\"10.0.0.1\"]}"),
                Arguments.of(Bandwidth.class, "{\"ingressRate\":1,\"ingressBurst\":2,\"egressRate\":3,\"egressBurst\":4}"),
                Arguments.of(PortMapping.class, "{\"hostPort\":80,\"containerPort\":8080,\"protocol\":\"sctp\"}"),
                Arguments.of(GcAttachment.class, "{\"containerID\":\"abc\",\"ifname\":\"eth0\"}"),
                Arguments.of(CniVersion.class, "\"0.3.1\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("documents")
    void objectMapperReadsAndWritesLikeTheStreamingCodec(Class<? extends CniJson> type, String json) throws Exception {
        CniJson viaMapper = MAPPER.readValue(json, type);

        assertSameJson(MAPPER.writeValueAsString(viaMapper), json);
        assertSameJson(viaMapper.toJson(), json);
        // Tree model and convertValue go through databind's TokenBuffer rather than text.
        JsonNode tree = MAPPER.readTree(json);
        assertThat(MAPPER.treeToValue(tree, type)).isEqualTo(viaMapper);
        // (valueToTree keeps Java number types, so compare its text, not its nodes.)
        assertSameJson(MAPPER.valueToTree(viaMapper).toString(), json);
    }

    /** A user type that embeds CNI types: the deserializer is bound per property type. */
    record CacheEntry(String containerId, NetConf config, Result result, List<CniVersion> versions,
            Map<String, Route> routes) {
    }

    @Test
    void worksInsideOtherTypes() throws Exception {
        String json = """
                {"containerId": "abc", "config": %s, "result": %s, "versions": ["1.0.0", "1.1.0"],
                 "routes": {"default": {"dst": "0.0.0.0/0"}}}
                """.formatted(Examples.HOST_LOCAL, Examples.bridgeResult("1.0.0"));

        CacheEntry entry = MAPPER.readValue(json, CacheEntry.class);

        assertThat(entry.config().ipam().orElseThrow().ranges()).hasSize(2);
        assertThat(entry.result().interfaces()).hasSize(3);
        assertThat(entry.versions()).containsExactly(CniVersion.V1_0_0, CniVersion.V1_1_0);
        assertThat(entry.routes().get("default")).isEqualTo(Route.of("0.0.0.0/0"));
        assertSameJson(MAPPER.writeValueAsString(entry), json);
    }

    @Test
    void failuresCarryTheFieldPath() {
        assertThatThrownBy(() -> MAPPER.readValue("{\"type\":\"bridge\",\"ipam\":{\"subnet\":\"10.0.0.0\"}}", NetConf.class))
                .isInstanceOf(MismatchedInputException.class)
                .hasMessageContaining("NetConf: ipam.subnet: '10.0.0.0' is not a CIDR");
        assertThatThrownBy(() -> MAPPER.readValue("{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"x\"}]}", Result.class))
                .isInstanceOf(MismatchedInputException.class)
                .hasMessageContaining("Result: ips[0].address: 'x' is not a CIDR");
    }
}
