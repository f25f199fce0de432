package dev.nodekit.common.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ListenAddressTest {

    @ParameterizedTest
    @CsvSource({
        "127.0.0.1:9808, 127.0.0.1, 9808",
        ":9808, , 9808",
        "localhost:0, localhost, 0",
        "[::1]:9808, ::1, 9808",
        "node-1.example.com:65535, node-1.example.com, 65535",
    })
    void parsesHostAndPort(String text, String host, int port) {
        ListenAddress a = ListenAddress.parse(text);
        assertThat(a.host()).isEqualTo(Optional.ofNullable(host));
        assertThat(a.port()).isEqualTo(port);
        assertThat(ListenAddress.parse(a.toString())).isEqualTo(a);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "''|empty",
        "9808|no port",
        "127.0.0.1:|port ''",
        "127.0.0.1:http|port 'http'",
        "127.0.0.1:65536|outside 0-65535",
        "127.0.0.1:-1|port '-1'",
        "::1:9808|brackets",
        "[::1:9808|unclosed",
        "bad host:80|not a host name",
        "a/b:80|not a host name",
    })
    void rejectsWithAMessageSayingWhy(String text, String why) {
        assertThatThrownBy(() -> ListenAddress.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(why);
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 65536})
    void constructorChecksPort(int port) {
        assertThatThrownBy(() -> new ListenAddress(Optional.empty(), port)).isInstanceOf(IllegalArgumentException.class);
    }
}
