package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

class NetConfListTest {

    @Test
    void specExampleRoundTrips() throws Exception {
        NetConfList list = NetConfList.parse(Examples.CONFLIST);

        assertThat(list.name()).isEqualTo("dbnet");
        assertThat(list.cniVersion()).contains(CniVersion.V1_1_0);
        assertThat(list.cniVersions()).containsExactly(CniVersion.V1_0_0, CniVersion.V1_1_0);
        assertThat(list.plugins()).extracting(NetConf::type).containsExactly("bridge", "tuning", "portmap");
        NetConf bridge = list.plugins().get(0);
        assertThat(bridge.extra()).containsEntry("bridge", "cni0")
                .containsEntry("keyA", List.of("some more", "plugin specific", "configuration"));
        assertThat(bridge.ipam().orElseThrow().legacyRange().orElseThrow().gateway()).contains("10.1.0.1");
        assertThat(list.plugins().get(1).capabilities()).containsEntry("mac", true);
        assertThat(list.plugins().get(1).extra()).containsKey("sysctl");

        assertSameJson(list.toJson(), Examples.CONFLIST);
    }

    @Test
    void pluginConfigIsWhatTheRuntimeSendsBeforeCapabilityArgs() throws Exception {
        NetConfList list = NetConfList.parse(Examples.CONFLIST);
        assertSameJson(list.pluginConfig(1).toJson(), """
                {"cniVersion": "1.1.0", "name": "dbnet", "type": "tuning", "sysctl": {"net.core.somaxconn": "500"}}
                """);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"true,true", "\"true\",true", "\"TRUE\",true", "\"False\",false", "false,false"})
    void flagsAcceptBooleanStrings(String raw, boolean expected) throws Exception {
        String json = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"disableCheck\":" + raw + ",\"disableGC\":" + raw
                + ",\"loadOnlyInlinedPlugins\":" + raw + ",\"plugins\":[{\"type\":\"bridge\"}]}";
        NetConfList list = NetConfList.parse(json);
        assertThat(list.disableCheck()).isEqualTo(expected);
        assertThat(list.disableGC()).isEqualTo(expected);
        assertThat(list.loadOnlyInlinedPlugins()).isEqualTo(expected);
        // Written back as JSON booleans (false is left out, as Go's omitempty does).
        String canonical = expected
                ? "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"disableCheck\":true,\"disableGC\":true,"
                        + "\"loadOnlyInlinedPlugins\":true,\"plugins\":[{\"type\":\"bridge\"}]}"
                : "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"}]}";
        assertSameJson(list.toJson(), canonical);
    }

    @ParameterizedTest(name = "cniVersion={0} cniVersions={1} -> {2}")
    @CsvSource(delimiter = ';', value = {
        "\"1.0.0\";;1.0.0",
        ";;0.1.0",
        "\"0.4.0\";[\"1.0.0\",\"1.1.0\"];1.1.0",
        "\"1.1.0\";[\"0.4.0\",\"2.0.0\"];1.1.0",
        "\"0.3.1\";[\"0.4.0\",\"3.0.0\"];0.4.0",
        ";[\"1.0.0\",\"1.5.0\"];1.0.0",
        "\"2.0.0\";[\"3.0.0\"];2.0.0"})
    void effectiveVersionFollowsLibcni(String version, String versions, String expected) throws Exception {
        String json = "{" + (version == null ? "" : "\"cniVersion\":" + version + ",")
                + (versions == null ? "" : "\"cniVersions\":" + versions + ",") + "\"name\":\"n\"}";
        assertThat(NetConfList.parse(json).effectiveVersion()).isEqualTo(CniVersion.parse(expected));
    }

    @Test
    void pluginsMayComeFromFilesUnlessOnlyInlinedAreLoaded() throws Exception {
        NetConfList list = NetConfList.parse("{\"cniVersion\":\"1.1.0\",\"name\":\"dropins\"}");
        assertThat(list.plugins()).isEmpty();
        assertSameJson(list.toJson(), "{\"cniVersion\":\"1.1.0\",\"name\":\"dropins\"}");
    }

    static Stream<Arguments> badLists() {
        return Stream.of(
                Arguments.of("{\"cniVersion\":\"1.1.0\",\"plugins\":[{\"type\":\"bridge\"}]}", 7, "name: required"),
                Arguments.of("{\"name\":\"n\",\"plugins\":[]}", 7, "plugins: no plugins in list"),
                Arguments.of("{\"name\":\"n\",\"loadOnlyInlinedPlugins\":true}", 7,
                        "plugins: required when loadOnlyInlinedPlugins is true"),
                Arguments.of("{\"name\":\"n\",\"disableCheck\":\"maybe\"}", 7,
                        "disableCheck: 'maybe' is not a boolean (expected true or false)"),
                Arguments.of("{\"name\":\"n\",\"disableGC\":1}", 6, "disableGC: expected true or false, got a number"),
                Arguments.of("{\"name\":\"n\",\"cniVersions\":[\"1.0.0\",\"x\"]}", 7,
                        "cniVersions[1]: 'x' is not a CNI version"),
                Arguments.of("{\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\"},{\"bridge\":\"cni0\"}]}", 7,
                        "plugins[1].type: required"),
                Arguments.of("{\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\",\"ipam\":{\"type\":\"host-local\","
                        + "\"ranges\":[[{\"subnet\":\"10.0.0.0/8\",\"gateway\":\"10.0.0.256\"}]]}}]}", 7,
                        "plugins[0].ipam.ranges[0][0].gateway: '10.0.0.256' is not an IP address"),
                Arguments.of("{\"name\":\"n\",\"plugins\":{\"type\":\"bridge\"}}", 6,
                        "plugins: expected an array, got an object"));
    }

    @ParameterizedTest(name = "{2}")
    @MethodSource("badLists")
    void badListsNameTheField(String json, int code, String message) {
        assertThatThrownBy(() -> NetConfList.parse(json))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.getMessage()).startsWith(message);
                    assertThat(e.code()).isEqualTo(code);
                });
    }
}
