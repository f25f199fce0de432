package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;

import org.junit.jupiter.api.Test;

class ErrorAndVersionInfoTest {

    @Test
    void errorBodyRoundTrips() throws Exception {
        CniError e = CniError.parse(Examples.ERROR);
        assertThat(e.cniVersion()).contains(CniVersion.V1_1_0);
        assertThat(e.code()).isEqualTo(CniError.INVALID_NETWORK_CONFIG);
        assertThat(e.msg()).isEqualTo("Invalid Configuration");
        assertThat(e.details()).contains("ipam.ranges[0][0].subnet: '10.0.0.0' is not a CIDR");
        assertThat(e.isWellKnown()).isTrue();
        assertSameJson(e.toJson(), Examples.ERROR);
    }

    @Test
    void goPluginErrorsWithoutVersionOrDetailsAreRead() throws Exception {
        // What the Go reference plugins print up to 1.0.0: no cniVersion, details omitted when empty.
        String json = "{\"code\":1,\"msg\":\"incompatible CNI versions\",\"x-ignored\":true}";
        CniError e = CniError.parse(json);
        assertThat(e.cniVersion()).isEmpty();
        assertThat(e.details()).isEmpty();
        assertSameJson(e.toJson(), "{\"code\":1,\"msg\":\"incompatible CNI versions\"}");
        assertThat(e.toException().code()).isEqualTo(1);
    }

    @Test
    void exceptionBecomesTheErrorBody() {
        CniException ex = new CniException(CniError.TRY_AGAIN_LATER, "ipam store busy", "lock held by pid 42");
        assertSameJson(ex.toError(CniVersion.V1_0_0).toJson(),
                "{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"ipam store busy\",\"details\":\"lock held by pid 42\"}");
        assertSameJson(new CniException(150, "plugin specific").toError(null).toJson(),
                "{\"code\":150,\"msg\":\"plugin specific\"}");
        assertThat(CniError.of(CniVersion.V1_1_0, 150, "x").isWellKnown()).isFalse();
    }

    @Test
    void wellKnownCodesMatchTheSpec() {
        assertThat(new int[] {CniError.INCOMPATIBLE_CNI_VERSION, CniError.UNSUPPORTED_FIELD, CniError.UNKNOWN_CONTAINER,
            CniError.INVALID_ENVIRONMENT_VARIABLES, CniError.IO_FAILURE, CniError.DECODING_FAILURE,
            CniError.INVALID_NETWORK_CONFIG, CniError.TRY_AGAIN_LATER, CniError.PLUGIN_NOT_AVAILABLE,
            CniError.PLUGIN_NOT_AVAILABLE_LIMITED_CONNECTIVITY, CniError.FIRST_PLUGIN_SPECIFIC})
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 11, 50, 51, 100);
    }

    @Test
    void badErrorBodies() {
        assertThatThrownBy(() -> CniError.parse("{\"msg\":\"x\"}")).hasMessage("code: required");
        assertThatThrownBy(() -> CniError.parse("{\"code\":\"7\",\"msg\":\"x\"}"))
                .hasMessage("code: expected an integer, got a string");
        assertThatThrownBy(() -> CniError.parse("{\"code\":-1,\"msg\":\"x\"}")).hasMessage("code: -1 is negative");
        assertThatThrownBy(() -> new CniError(Optional.empty(), 1, null, Optional.empty())).hasMessage("msg: required");
    }

    @Test
    void versionOutputRoundTrips() throws Exception {
        VersionInfo v = VersionInfo.parse(Examples.VERSION);
        assertThat(v.cniVersion()).isEqualTo(CniVersion.V1_1_0);
        assertThat(v.supportedVersions()).isEqualTo(CniVersion.ALL);
        assertThat(v.supports(CniVersion.V0_3_1)).isTrue();
        assertSameJson(v.toJson(), Examples.VERSION);
        assertSameJson(VersionInfo.of(CniVersion.ALL).toJson(), Examples.VERSION);
    }

    @Test
    void a020PluginMayOmitSupportedVersions() throws Exception {
        VersionInfo v = VersionInfo.parse("{\"cniVersion\":\"0.2.0\"}");
        assertThat(v.supportedVersions()).containsExactly(CniVersion.V0_1_0, CniVersion.V0_2_0);
        assertThatThrownBy(() -> VersionInfo.parse("{\"cniVersion\":\"0.3.0\"}"))
                .isInstanceOfSatisfying(CniException.class, e -> {
                    assertThat(e.code()).isEqualTo(CniError.DECODING_FAILURE);
                    assertThat(e.getMessage()).isEqualTo("supportedVersions: required");
                });
        assertThatThrownBy(() -> VersionInfo.parse("{\"supportedVersions\":[\"1.0.0\"]}")).hasMessage("cniVersion: required");
        assertThatThrownBy(() -> VersionInfo.parse("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"1.0.0\",1]}"))
                .hasMessage("supportedVersions[1]: expected a version string, got a number");
    }
}
