package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.nodekit.common.config.ConfigException;

class RbdConfigTest {
    @TempDir
    Path dir;

    @Test
    void readsTheDocumentedExampleWithDefaults() throws Exception {
        Path f = Files.writeString(dir.resolve("ceph.yaml"), String.join("\n",
                "softMaxCloneDepth: 3",
                "clusters:",
                "  - clusterID: ceph-a",
                "    monitors: \"[v2:10.0.0.1:3300,v1:10.0.0.1:6789]\"",
                "    journalPool: csi-journal",
                "    operationTimeout: 15s",
                "    credentialFile: /etc/nodekit/ceph-a",
                "  - clusterID: ceph-b",
                "    monitors: 10.0.0.2:6789",
                ""));
        RbdConfig c = RbdConfig.load(f);
        assertThat(c.instanceID()).isEqualTo("default");
        assertThat(c.softMaxCloneDepth()).isEqualTo(3);
        assertThat(c.hardMaxCloneDepth()).isEqualTo(8);
        assertThat(c.sessionIdleTimeout()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.clusterIDs()).containsExactly("ceph-a", "ceph-b");
        RbdConfig.Cluster a = c.cluster("ceph-a").orElseThrow();
        assertThat(a.journalPoolName()).contains("csi-journal");
        assertThat(a.operationTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(a.connectTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(a.credentialPath()).contains(Path.of("/etc/nodekit/ceph-a"));
        assertThat(a.monitorsHavePrefixes()).isTrue();
        assertThat(c.cluster("ceph-b").orElseThrow().monitorsHavePrefixes()).isFalse();
        assertThat(c.everyClusterHasCredentials()).isFalse();
        assertThat(c.cluster("nope")).isEmpty();
    }

    @Test
    void errorsNameTheFileLineAndField() throws Exception {
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("a.yaml"),
                "clusters:\n  - clusterID: bad/id\n    monitors: m\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("clusterID");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("b.yaml"),
                "clusters:\n  - clusterID: a\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("monitors");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("c.yaml"),
                "clusters:\n  - clusterID: a\n    monitors: m\n  - clusterID: a\n    monitors: n\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("twice");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("d.yaml"),
                "clusters:\n  - clusterID: a\n    monitors: m\n    poolz: x\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("poolz");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("e.yaml"),
                "softMaxCloneDepth: 8\nhardMaxCloneDepth: 8\nclusters:\n  - clusterID: a\n    monitors: m\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("softMaxCloneDepth");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("f.yaml"),
                "clusters:\n  - clusterID: a\n    monitors: m\n    credentialFile: relative/path\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("credentialFile");
        assertThatThrownBy(() -> RbdConfig.load(Files.writeString(dir.resolve("g.yaml"), "clusters: []\n")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("clusters");
    }

    @Test
    void credentialFilesAreReadAsAMountedSecretOrAMapWithoutQuotingTheKey() throws Exception {
        String key = "AQBhHRVlAAAAABAAg9YEHCQKAzW4BqGzq5x5ew==";
        Path secret = Files.createDirectories(dir.resolve("secret"));
        Files.writeString(secret.resolve("userID"), "csi\n");
        Files.writeString(secret.resolve("userKey"), key + "\n");
        assertThat(CredentialFile.read(secret).userId()).isEqualTo("csi");
        assertThat(CredentialFile.read(secret).key()).isEqualTo(key);
        Path yaml = Files.writeString(dir.resolve("cred.yaml"), "userID: client.csi\nuserKey: " + key + "\n");
        assertThat(CredentialFile.read(yaml).userId()).isEqualTo("csi");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "userID: csi\nuserKey: not-a-cephx-key-at-all\n");
        assertThatThrownBy(() -> CredentialFile.read(bad)).hasMessageContaining("bad.yaml")
                .hasMessageNotContaining("not-a-cephx-key-at-all");
        Path broken = Files.writeString(dir.resolve("broken.yaml"), "userID: [" + key + "\n");
        assertThatThrownBy(() -> CredentialFile.read(broken)).hasMessageNotContaining(key);
        Files.delete(secret.resolve("userKey"));
        assertThatThrownBy(() -> CredentialFile.read(secret)).hasMessageContaining("userKey");
    }
}
