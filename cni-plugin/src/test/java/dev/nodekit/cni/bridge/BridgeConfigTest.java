package dev.nodekit.cni.bridge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.NetConf;

class BridgeConfigTest {
    static BridgeConfig parse(String members, String args) throws CniException {
        return BridgeConfig.from(NetConf.parse("{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"nodekit-bridge\""
                + members + "}"), CniArgs.parse(args));
    }

    @Test
    void defaultsAreGos() throws Exception {
        BridgeConfig c = parse("", "");
        assertThat(c.bridge()).isEqualTo("cni0");
        assertThat(c.isGateway()).isFalse();
        assertThat(c.ipMasq()).isFalse();
        assertThat(c.mtu()).isZero();
        assertThat(c.preserveDefaultVlan()).isTrue();
        assertThat(c.isLayer3()).isFalse();
        assertThat(c.mac()).isEmpty();
    }

    @Test
    void defaultGatewayImpliesGateway() throws Exception {
        BridgeConfig c = parse(",\"isDefaultGateway\":true,\"ipam\":{\"type\":\"host-local\"}", "");
        assertThat(c.isGateway()).isTrue();
        assertThat(c.ipamType()).hasValue("host-local");
        assertThat(parse(",\"ipam\":{}", "").isLayer3()).isFalse();
    }

    @Test
    void macPrecedenceIsRuntimeConfigThenArgsThenCniArgs() throws Exception {
        assertThat(parse("", "MAC=02:00:00:00:00:01").mac()).hasValue("02:00:00:00:00:01");
        assertThat(parse(",\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}}", "MAC=02:00:00:00:00:01").mac())
                .hasValue("02:00:00:00:00:02");
        assertThat(parse(",\"args\":{\"cni\":{\"mac\":\"02:00:00:00:00:02\"}},\"runtimeConfig\":{\"mac\":\"02:00:00:00:00:0A\"}",
                "MAC=02:00:00:00:00:01").mac()).hasValue("02:00:00:00:00:0a");
        assertThatThrownBy(() -> parse("", "MAC=01:00:5e:00:00:01")).hasMessageContaining("multicast");
        assertThatThrownBy(() -> parse("", "MAC=zz")).hasMessageContaining("not a MAC");
    }

    @Test
    void vlanTrunkLikeGo() throws Exception {
        BridgeConfig c = parse(",\"vlanTrunk\":[{\"id\":5},{\"minID\":10,\"maxID\":12},{\"id\":11}]", "");
        assertThat(c.vlanTrunk()).containsExactly(5, 10, 11, 12);
        assertThat(c.vlanFiltering()).isTrue();
        assertThatThrownBy(() -> parse(",\"vlanTrunk\":[{\"minID\":10}]", "")).hasMessageContaining("maxID is missing");
        assertThatThrownBy(() -> parse(",\"vlanTrunk\":[{\"minID\":12,\"maxID\":10}]", ""))
                .hasMessageContaining("minID is greater than maxID");
        assertThatThrownBy(() -> parse(",\"vlan\":5,\"vlanTrunk\":[{\"id\":6}]", ""))
                .hasMessageContaining("cannot set vlan and vlanTrunk at the same time");
        assertThatThrownBy(() -> parse(",\"vlan\":4095", "")).hasMessageContaining("invalid VLAN ID 4095");
    }

    @Test
    void refusesWhatItCannotDoInsteadOfIgnoringIt() {
        assertThatThrownBy(() -> parse(",\"macspoofchk\":true", "")).isInstanceOfSatisfying(CniException.class,
                e -> assertThat(e.code()).isEqualTo(CniError.UNSUPPORTED_FIELD));
        assertThatThrownBy(() -> parse(",\"ipMasqBackend\":\"nftables\"", "")).isInstanceOfSatisfying(CniException.class,
                e -> assertThat(e.code()).isEqualTo(CniError.UNSUPPORTED_FIELD));
        assertThatThrownBy(() -> parse(",\"hairpinMode\":true,\"promiscMode\":true", ""))
                .hasMessageContaining("cannot set hairpin mode and promiscuous mode at the same time");
        assertThatThrownBy(() -> parse(",\"disableContainerInterface\":true,\"ipam\":{\"type\":\"host-local\"}", ""))
                .hasMessageContaining("cannot use IPAM");
        assertThatThrownBy(() -> parse(",\"isGateway\":\"yes\"", "")).isInstanceOfSatisfying(CniException.class, e -> {
            assertThat(e.code()).isEqualTo(CniError.INVALID_NETWORK_CONFIG);
            assertThat(e.getMessage()).contains("isGateway");
        });
        assertThatThrownBy(() -> parse(",\"bridge\":\"way-too-long-bridge-name\"", "")).hasMessageContaining("bridge");
        assertThatThrownBy(() -> parse(",\"mtu\":-1", "")).hasMessageContaining("mtu");
    }
}
