package dev.nodekit.cni.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import org.junit.jupiter.api.Test;

class MacAndNamesTest {

    @Test
    void normalizesMacs() {
        assertThat(MacAddress.normalize("C2:11:22:33:44:55")).isEqualTo("c2:11:22:33:44:55");
        assertThat(MacAddress.normalize("c2-11-22-33-44-55")).isEqualTo("c2:11:22:33:44:55");
        for (String bad : new String[] {"c2:11:22:33:44", "c2:11:22:33:44:5g", "c2:11-22:33:44:55", "c21122334455"}) {
            assertThatThrownBy(() -> MacAddress.normalize(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(MacAddress.isMulticast("01:00:5e:00:00:01")).isTrue();
        assertThat(MacAddress.isMulticast("02:00:5e:00:00:01")).isFalse();
    }

    @Test
    void randomMacsAreLocalUnicastAndDiffer() {
        Random r = new Random(42);
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            String m = MacAddress.random(r);
            assertThat(MacAddress.normalize(m)).isEqualTo(m);
            assertThat(MacAddress.isMulticast(m)).isFalse();
            assertThat(Character.digit(m.charAt(1), 16) & 2).as("locally administered bit").isEqualTo(2);
            seen.add(m);
        }
        assertThat(seen).hasSize(1000);
    }

    @Test
    void interfaceNamesFollowTheKernelRules() {
        assertThat(InterfaceNames.problem("eth0")).isNull();
        assertThat(InterfaceNames.problem("cni0.100")).isNull();
        assertThat(InterfaceNames.problem("123456789012345")).isNull();
        assertThat(InterfaceNames.problem("1234567890123456")).contains("longer than 15");
        assertThat(InterfaceNames.problem("")).contains("empty");
        assertThat(InterfaceNames.problem(".")).isNotNull();
        assertThat(InterfaceNames.problem("..")).isNotNull();
        assertThat(InterfaceNames.problem("a/b")).isNotNull();
        assertThat(InterfaceNames.problem("a:b")).isNotNull();
        assertThat(InterfaceNames.problem("a b")).isNotNull();
        assertThatThrownBy(() -> InterfaceNames.check("a#b", "ifname")).hasMessageContaining("'#'");
    }

    @Test
    void batchTokensCannotSmuggleOperations() {
        IpBatch b = new IpBatch().add("link", "set", "dev", "eth0", "up").add("addr", "add", "10.0.0.2/24", "dev", "eth0");
        assertThat(b.text()).isEqualTo("link set dev eth0 up\naddr add 10.0.0.2/24 dev eth0\n");
        assertThat(b.line(2)).isEqualTo("addr add 10.0.0.2/24 dev eth0");
        assertThat(b.line(3)).isNull();
        for (String bad : new String[] {"eth0\nlink", "a b", "a\"b", "#x", "", "a\\b"}) {
            assertThatThrownBy(() -> new IpBatch().add("link", "del", bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
