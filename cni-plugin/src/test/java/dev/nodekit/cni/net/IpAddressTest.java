package dev.nodekit.cni.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class IpAddressTest {

    /** Go's net.ParseIP(x).String() for each input (checked against Go's rules: RFC 5952, first longest run). */
    @ParameterizedTest
    @CsvSource({
        "10.0.0.1, 10.0.0.1",
        "0.0.0.0, 0.0.0.0",
        "255.255.255.255, 255.255.255.255",
        "::, ::",
        "::1, ::1",
        "fd00::2, fd00::2",
        "FD00:0:0:0:0:0:0:2, fd00::2",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
        "2001:0:0:1:0:0:0:0, 2001:0:0:1::",
        "1:0:2:0:3:0:4:0, 1:0:2:0:3:0:4:0",
        "0:0:1:0:0:0:0:0, 0:0:1::",
        "::ffff:10.1.2.3, 10.1.2.3",
        "::ffff:a01:203, 10.1.2.3",
        "64:ff9b::10.1.2.3, 64:ff9b::a01:203",
        "fe80::1:2:3:4, fe80::1:2:3:4",
    })
    void printsLikeGo(String in, String go) {
        assertThat(IpAddress.parse(in).toString()).isEqualTo(go);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1..2.3", "a.b.c.d",
        ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:2:3:4:5:6:7", "::1.2.3", "1.2.3.4:5",
        "fe80::1%eth0", " 1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4"})
    void rejectsWhatGoRejects(String in) {
        assertThat(IpAddress.parseOrNull(in)).isNull();
        assertThatThrownBy(() -> IpAddress.parse(in)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void arithmetic() {
        assertThat(IpAddress.parse("10.0.0.255").next()).hasToString("10.0.1.0");
        assertThat(IpAddress.parse("10.0.1.0").previous()).hasToString("10.0.0.255");
        assertThat(IpAddress.parse("fd00::ffff:ffff:ffff:ffff").next()).hasToString("fd00:0:0:1::");
        assertThat(IpAddress.parse("fd00:0:0:1::").previous()).hasToString("fd00::ffff:ffff:ffff:ffff");
        assertThat(IpAddress.parse("10.1.2.3").masked(16)).hasToString("10.1.0.0");
        assertThat(IpAddress.parse("10.1.2.3").lastOf(16)).hasToString("10.1.255.255");
        assertThat(IpAddress.parse("10.1.2.3").masked(0)).hasToString("0.0.0.0");
        assertThat(IpAddress.parse("fd00:1:2:3:4:5:6:7").masked(64)).hasToString("fd00:1:2:3::");
        assertThat(IpAddress.parse("fd00:1:2:3:4ff:5:6:7").masked(72)).hasToString("fd00:1:2:3:400::");
        assertThat(IpAddress.parse("fd00:1:2:3::").lastOf(64)).hasToString("fd00:1:2:3:ffff:ffff:ffff:ffff");
        assertThat(IpAddress.parse("fd00::").lastOf(8)).hasToString("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    }

    @Test
    void countsInclusively() {
        assertThat(IpAddress.parse("10.0.0.2").countTo(IpAddress.parse("10.0.0.254"))).isEqualTo(253);
        assertThat(IpAddress.parse("10.0.0.2").countTo(IpAddress.parse("10.0.0.2"))).isEqualTo(1);
        assertThat(IpAddress.parse("10.0.0.3").countTo(IpAddress.parse("10.0.0.2"))).isZero();
        assertThat(IpAddress.parse("fd00::1").countTo(IpAddress.parse("fd00::ffff:ffff:ffff:ffff")))
                .isEqualTo(Long.MAX_VALUE);
        assertThat(IpAddress.parse("fd00::1").countTo(IpAddress.parse("fd00::100"))).isEqualTo(256);
        assertThat(IpAddress.parse("10.0.0.1").countTo(IpAddress.parse("fd00::1"))).isZero();
    }

    @Test
    void ordersV4BeforeV6AndNumerically() {
        assertThat(IpAddress.parse("10.0.0.9")).isLessThan(IpAddress.parse("10.0.0.10"));
        assertThat(IpAddress.parse("255.255.255.255")).isLessThan(IpAddress.parse("::"));
        assertThat(IpAddress.parse("8000::")).isGreaterThan(IpAddress.parse("7fff::"));
        assertThat(IpAddress.parse("10.0.0.1")).isEqualTo(IpAddress.parse("::ffff:10.0.0.1"))
                .hasSameHashCodeAs(IpAddress.parse("::ffff:10.0.0.1"));
    }

    @Test
    void networks() {
        IpNetwork n = IpNetwork.parse("10.1.0.5/24");
        assertThat(n.networkAddress()).hasToString("10.1.0.0");
        assertThat(n.lastAddress()).hasToString("10.1.0.255");
        assertThat(n.isNetworkAddress()).isFalse();
        assertThat(n.network()).hasToString("10.1.0.0/24");
        assertThat(n.contains(IpAddress.parse("10.1.0.200"))).isTrue();
        assertThat(n.contains(IpAddress.parse("10.1.1.0"))).isFalse();
        assertThat(n.contains(IpAddress.parse("fd00::1"))).isFalse();
        assertThat(IpNetwork.parse("10.0.0.0/8").overlaps(IpNetwork.parse("10.5.0.0/16"))).isTrue();
        assertThat(IpNetwork.parse("10.0.0.0/16").overlaps(IpNetwork.parse("10.1.0.0/16"))).isFalse();
        assertThat(IpNetwork.parse("fd00::5/64")).hasToString("fd00::5/64");
        for (String bad : new String[] {"10.0.0.0", "10.0.0.0/33", "10.0.0.0/", "/24", "fd00::/129", "10.0.0.0/08",
            "x/24"}) {
            assertThat(IpNetwork.parseOrNull(bad)).as(bad).isNull();
        }
    }
}
