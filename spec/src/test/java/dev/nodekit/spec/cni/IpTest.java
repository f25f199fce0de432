package dev.nodekit.spec.cni;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The IP/CIDR/MAC text rules, checked against what Go's net.ParseIP/ParseCIDR/ParseMAC accept. */
class IpTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "10.0.0.1, 4", "0.0.0.0, 4", "255.255.255.255, 4",
        "::, 6", "::1, 6", "fd00::1, 6", "2001:db8::5, 6", "2001:DB8:0:0:0:0:0:1, 6", "1::, 6",
        "3ffe:ffff:0:01ff::0010, 6", "1:2:3:4:5:6:7:8, 6", "::ffff:10.0.0.1, 4", "64:ff9b::10.0.0.1, 6",
        "256.0.0.1, 0", "10.0.0, 0", "10.0.0.1.2, 0", "010.0.0.1, 0", "10.0.0.-1, 0", "' 10.0.0.1', 0",
        "1:2:3:4:5:6:7:8:9, 0", "1::2::3, 0", ":1::, 0", "1:::, 0", "12345::, 0", "fd00::1%eth0, 0",
        "1:2:3:4:5:6:7::8, 0", "g::1, 0", "localhost, 0", "'', 0", "1:2:3:4:5:6:7:, 0"})
    void family(String text, int family) {
        assertThat(Ip.family(text)).isEqualTo(family);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "10.1.0.5/16, 4", "0.0.0.0/0, 4", "10.0.0.0/32, 4", "::/0, 6", "fd00:10:88::5/64, 6", "fd00::/128, 6",
        "::ffff:10.0.0.1/120, 4",
        "10.0.0.1, 0", "10.0.0.1/33, 0", "10.0.0.1/, 0", "/24, 0", "10.0.0.1/08, 0", "10.0.0.1/-1, 0",
        "fd00::/129, 0", "10.0.0.1/24/1, 0", "10.0.0.1/2a, 0"})
    void cidrFamily(String text, int family) {
        assertThat(Ip.cidrFamily(text)).isEqualTo(family);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
        "c2:11:22:33:44:55, true", "C2-11-22-33-44-55, true", "02:00:5e:10:00:00:00:01, true",
        "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01, true", "0000.5e00.5301, true",
        "c2:11:22:33:44, false", "c2:11:22:33:44:5g, false", "c2:11-22:33:44:55, false", "c211.2233.4455.66, false",
        "'', false", "c2:11:22:33:44:55:, false"})
    void mac(String text, boolean valid) {
        assertThat(Ip.isMac(text)).isEqualTo(valid);
    }
}
