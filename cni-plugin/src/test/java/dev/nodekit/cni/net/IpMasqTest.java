package dev.nodekit.cni.net;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.nodekit.common.testing.RecordingCommandRunner;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;

class IpMasqTest {

    @Test
    void namesChainsAndCommentsAsGoDoes() {
        // "CNI-" + hex(sha512("mynet" + "abc123"))[:24], computed independently with sha512sum.
        assertThat(IpMasq.chainName("mynet", "abc123")).isEqualTo("CNI-" + "70a29d9dc18bc4d652ea5d59");
        assertThat(IpMasq.chainName("mynet", "abc123")).hasSize(28);
        assertThat(IpMasq.comment("mynet", "abc123")).isEqualTo("name: \"mynet\" id: \"abc123\"");
    }

    @Test
    void setupIsOneRestorePerFamily() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("iptables-restore").thenSucceed();
        r.onPrefix("ip6tables-restore").thenSucceed();
        new IpMasq(r, Duration.ofSeconds(5)).setup("CNI-x", "name: \"n\" id: \"c\"",
                List.of(IpNetwork.parse("10.1.0.5/24"), IpNetwork.parse("fd00::5/64")));
        assertThat(r.argvs()).containsExactly(List.of("iptables-restore", "-w", "5", "--noflush"),
                List.of("ip6tables-restore", "-w", "5", "--noflush"));
        assertThat(new String(r.invocations().get(0).stdin())).isEqualTo("""
                *nat
                :CNI-x - [0:0]
                -A CNI-x -d 10.1.0.0/24 -j ACCEPT -m comment --comment "name: \\"n\\" id: \\"c\\""
                -A CNI-x ! -d 224.0.0.0/4 -j MASQUERADE -m comment --comment "name: \\"n\\" id: \\"c\\""
                -A POSTROUTING -s 10.1.0.5 -j CNI-x -m comment --comment "name: \\"n\\" id: \\"c\\""
                COMMIT
                """);
        assertThat(new String(r.invocations().get(1).stdin())).contains("! -d ff00::/8 -j MASQUERADE")
                .contains("-A POSTROUTING -s fd00::5 -j CNI-x");
    }

    @Test
    void teardownRemovesEveryJumpAndTheChain() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("iptables", "-w").thenSucceed("""
                -P POSTROUTING ACCEPT
                -A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \\"n\\" id: \\"c\\"" -j CNI-x
                -A POSTROUTING -s 10.1.0.9/32 -m comment --comment "name: \\"n\\" id: \\"d\\"" -j CNI-y
                -A POSTROUTING -s 10.1.0.5/32 -j CNI-x
                """);
        r.onPrefix("iptables-restore").thenSucceed();
        new IpMasq(r, Duration.ofSeconds(5)).teardown("CNI-x", 4);
        assertThat(new String(r.invocationsStartingWith("iptables-restore").get(0).stdin())).isEqualTo("""
                *nat
                :CNI-x - [0:0]
                -D POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \\"n\\" id: \\"c\\"" -j CNI-x
                -D POSTROUTING -s 10.1.0.5/32 -j CNI-x
                -X CNI-x
                COMMIT
                """);
    }

    @Test
    void readsContainerIdsFromComments() throws Exception {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("iptables", "-w").thenSucceed("""
                -A POSTROUTING -s 10.1.0.5/32 -m comment --comment "name: \\"n\\" id: \\"c1\\"" -j CNI-a
                -A POSTROUTING -s 10.1.0.6/32 -m comment --comment "name: \\"other\\" id: \\"c2\\"" -j CNI-b
                -A POSTROUTING -s 10.1.0.7/32 -m comment --comment "name: \\"n\\" id: \\"c3\\"" -j CNI-c
                -A POSTROUTING -o eth0 -j MASQUERADE
                """);
        IpMasq m = new IpMasq(r, Duration.ofSeconds(5));
        assertThat(m.containerIds("n", 4)).containsExactly("c1", "c3");
        assertThat(m.isSetUp("CNI-a", IpAddress.parse("10.1.0.5"))).isTrue();
        assertThat(m.isSetUp("CNI-a", IpAddress.parse("10.1.0.6"))).isFalse();
    }

    @Test
    void aBusyXtablesLockIsTryAgainLater() {
        RecordingCommandRunner r = new RecordingCommandRunner();
        r.onPrefix("iptables-restore").thenFail(4,
                "Another app is currently holding the xtables lock. Stopped waiting after 5s.");
        assertThatThrownBy(() -> new IpMasq(r, Duration.ofSeconds(5)).setup("CNI-x", "c",
                List.of(IpNetwork.parse("10.1.0.5/24"))))
                .isInstanceOfSatisfying(CniException.class, e -> assertThat(e.code()).isEqualTo(CniError.TRY_AGAIN_LATER));
    }
}
