package dev.nodekit.spec.cni;

import static dev.nodekit.spec.cni.JsonTrees.assertSameJson;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Documents printed by the Go reference plugins (Debian containernetworking-plugins 1.1.1,
 * {@code /usr/lib/cni/host-local}), copied verbatim: what a nodekit runtime or chained plugin reads
 * from a Go plugin must decode, convert as libcni does, and print back unchanged.
 */
class GoPluginOutputTest {

    /** host-local ADD, cniVersion 0.4.0, one IPv4 and one IPv6 range set; Go prints an empty dns object. */
    static final String HOST_LOCAL_ADD_040 = """
            {
                "cniVersion": "0.4.0",
                "ips": [
                    {
                        "version": "4",
                        "address": "10.99.0.2/24",
                        "gateway": "10.99.0.1"
                    },
                    {
                        "version": "6",
                        "address": "fd00:99::2/64",
                        "gateway": "fd00:99::1"
                    }
                ],
                "routes": [
                    {
                        "dst": "0.0.0.0/0"
                    },
                    {
                        "dst": "::/0"
                    }
                ],
                "dns": {}
            }""";

    /** host-local ADD, cniVersion 0.2.0, IPv4 range only (routes 0.0.0.0/0 and ::/0 configured). */
    static final String HOST_LOCAL_ADD_020 = """
            {
                "cniVersion": "0.2.0",
                "ip4": {
                    "ip": "10.99.0.3/24",
                    "gateway": "10.99.0.1",
                    "routes": [
                        {
                            "dst": "0.0.0.0/0"
                        }
                    ]
                },
                "dns": {}
            }""";

    /** host-local given cniVersion 1.1.0 (it implements up to 1.0.0): no cniVersion in the error body. */
    static final String INCOMPATIBLE = """
            {
                "code": 1,
                "msg": "incompatible CNI versions",
                "details": "config is \\"1.1.0\\", plugin supports [\\"0.1.0\\" \\"0.2.0\\" \\"0.3.0\\" \\"0.3.1\\" \\"0.4.0\\" \\"1.0.0\\"]"
            }""";

    static final String VERSION = """
            {"cniVersion":"1.0.0","supportedVersions":["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0"]}""";

    @Test
    void ipamResultRoundTripsAndConverts() throws Exception {
        Result r = Result.parse(HOST_LOCAL_ADD_040);
        assertThat(r.dns()).hasValueSatisfying(d -> assertThat(d.isEmpty()).isTrue());
        assertSameJson(r.toJson(), HOST_LOCAL_ADD_040);
        assertSameJson(r.convertTo(CniVersion.V1_0_0).toJson(), """
                {"cniVersion": "1.0.0",
                 "ips": [{"address": "10.99.0.2/24", "gateway": "10.99.0.1"}, {"address": "fd00:99::2/64", "gateway": "fd00:99::1"}],
                 "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}], "dns": {}}
                """);
        // One address per family and no interfaces: 0.2.0 holds all of it, so even REJECT converts.
        assertSameJson(r.convertTo(CniVersion.V0_2_0).toJson(), """
                {"cniVersion": "0.2.0",
                 "ip4": {"ip": "10.99.0.2/24", "gateway": "10.99.0.1", "routes": [{"dst": "0.0.0.0/0"}]},
                 "ip6": {"ip": "fd00:99::2/64", "gateway": "fd00:99::1", "routes": [{"dst": "::/0"}]},
                 "dns": {}}
                """);
    }

    @Test
    void legacyResultMatchesWhatGoPrintsForTheSameAllocation() throws Exception {
        Result legacy = Result.parse(HOST_LOCAL_ADD_020);
        assertSameJson(legacy.toJson(), HOST_LOCAL_ADD_020);

        // Go dropped the ::/0 route for lack of an IPv6 address; libcni's rule, applied to the 1.0.0 form.
        Result rich = Result.parse("""
                {"cniVersion": "1.0.0", "ips": [{"address": "10.99.0.3/24", "gateway": "10.99.0.1"}],
                 "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}], "dns": {}}
                """);
        assertSameJson(rich.convertTo(CniVersion.V0_2_0, DataLoss.DROP).toJson(), HOST_LOCAL_ADD_020);
    }

    @Test
    void errorAndVersionBodies() throws Exception {
        CniError e = CniError.parse(INCOMPATIBLE);
        assertThat(e.code()).isEqualTo(CniError.INCOMPATIBLE_CNI_VERSION);
        assertThat(e.cniVersion()).isEmpty();
        assertSameJson(e.toJson(), INCOMPATIBLE);

        VersionInfo v = VersionInfo.parse(VERSION);
        assertThat(v.supports(CniVersion.V1_0_0)).isTrue();
        assertThat(v.supports(CniVersion.V1_1_0)).isFalse();
        assertThat(CniVersion.highest(v.supportedVersions(), CniVersion.LATEST)).contains(CniVersion.V1_0_0);
        assertSameJson(v.toJson(), VERSION);
    }
}
