package dev.nodekit.cni.ipam;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.nodekit.spec.cni.Dns;

class ResolvConfTest {
    @Test
    void parsesLikeHostLocal() {
        Dns d = ResolvConf.parse("""
                # comment
                ; another
                nameserver 10.96.0.10
                nameserver   8.8.8.8
                domain cluster.local
                search default.svc.cluster.local svc.cluster.local
                search cluster.local
                options ndots:5 edns0
                sortlist 130.155.160.0
                nameserver
                """);
        assertThat(d.nameservers()).containsExactly("10.96.0.10", "8.8.8.8");
        assertThat(d.domain()).hasValue("cluster.local");
        assertThat(d.search()).isEqualTo(List.of("default.svc.cluster.local", "svc.cluster.local", "cluster.local"));
        assertThat(d.options()).containsExactly("ndots:5", "edns0");
    }
}
