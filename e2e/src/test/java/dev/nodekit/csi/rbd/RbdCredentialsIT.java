package dev.nodekit.csi.rbd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.nodekit.common.Requirement;
import dev.nodekit.common.testing.Requires;
import dev.nodekit.e2e.CsiDriverProcess;
import dev.nodekit.e2e.ceph.CephCluster;
import dev.nodekit.spec.csi.v1.NodeStageVolumeRequest;
import dev.nodekit.spec.csi.v1.NodeUnstageVolumeRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * Wrong credentials are PERMISSION_DENIED with a message that says what to check, at once (the
 * monitors refuse a wrong key; no timeout), and no key ever reaches a log: the driver runs at DEBUG
 * with access logging, a volume is staged through rbd-fuse (whose key file must be gone after), and
 * then every line the driver and its rbd-fuse daemons logged is searched for the right key, the
 * wrong one and the key's raw secret bytes.
 */
@Requires({Requirement.ROOT, Requirement.CEPH, Requirement.RBD_FUSE, Requirement.LOOP_DEVICES})
class RbdCredentialsIT {
    static CephCluster cluster;
    static Path work;
    static CsiDriverProcess driver;
    static RbdDriverClient client;
    /** A well-formed cephx key nobody has. */
    static final String WRONG_KEY = "AQBhHRVlAAAAABAAg9YEHCQKAzW4BqGzq5x5ew==";

    @BeforeAll
    static void boot() throws Exception {
        cluster = CephCluster.shared();
        work = Files.createTempDirectory("nodekit-rbd-creds-");
        Path config = RbdTestCluster.writeYaml(RbdTestCluster.config(cluster, null), work.resolve("ceph.yaml"));
        driver = CsiDriverProcess.start(CsiDriverProcess.Spec.in(work.resolve("driver"), "creds-node")
                .withArgs("--backend", "rbd", "--ceph-config", config.toString())
                .withEnv(Map.of("NODEKIT_LOG_LEVEL", "DEBUG")), Duration.ofSeconds(90));
        client = new RbdDriverClient(driver, RbdTestCluster.parameters(cluster), RbdTestCluster.secrets(cluster));
    }

    @AfterAll
    static void stop() throws Exception {
        if (client != null) {
            client.close();
        }
        try {
            if (driver != null) {
                driver.stop(Duration.ofSeconds(20));
            }
        } finally {
            if (work != null) {
                RbdHost.assertNothingLeft(work);
                RbdHost.deleteTree(work);
            }
        }
    }

    @Test
    void wrongCredentialsArePermissionDeniedAndNoKeyIsEverLogged() throws Exception {
        long t = System.nanoTime();
        StatusRuntimeException wrongKey = denied(Map.of("userID", cluster.clientId(), "userKey", WRONG_KEY));
        long ms = (System.nanoTime() - t) / 1_000_000;
        assertThat(wrongKey.getStatus().getDescription()).contains("user '" + cluster.clientId() + "'")
                .contains("refused the credentials").contains("userID/userKey");
        assertThat(ms).as("refused at once, not after the connect timeout").isLessThan(8000);
        StatusRuntimeException unknownUser = denied(Map.of("userID", "nobody", "userKey", cluster.clientKey()));
        assertThat(unknownUser.getStatus().getDescription()).contains("'nobody'");
        StatusRuntimeException malformed = denied(Map.of("userID", cluster.clientId(), "userKey", "not-a-key"));
        assertThat(malformed.getStatus().getDescription()).contains("not base64").doesNotContain("not-a-key");
        StatusRuntimeException missing = denied(Map.of("userID", cluster.clientId()));
        assertThat(missing.getStatus().getDescription()).contains("userKey");

        // Without a credential file the calls that carry no secrets are not offered.
        assertThatThrownBy(() -> client.controller(30).listVolumes(
                dev.nodekit.spec.csi.v1.ListVolumesRequest.getDefaultInstance()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));

        // A real volume staged through rbd-fuse, so its daemon's log is searched too.
        String id = client.createVolume("creds-ok", 64 << 20, RbdDriverClient.mount("ext4"));
        Path staging = Files.createDirectories(work.resolve("staging"));
        client.node(120).nodeStageVolume(NodeStageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(staging.toString()).setVolumeCapability(RbdDriverClient.mount("ext4"))
                .putAllSecrets(client.secrets).build());
        try (Stream<Path> keys = Files.list(work.resolve("driver/data/rbd/keys"))) {
            assertThat(keys.toList()).as("temporary key files left after the daemon authenticated").isEmpty();
        }
        List<String> lines = new ArrayList<>(Files.readAllLines(driver.logFile(), StandardCharsets.UTF_8));
        try (Stream<Path> logs = Files.walk(work.resolve("driver/data"))) {
            for (Path p : logs.filter(p -> p.toString().endsWith(".log")).toList()) {
                lines.addAll(Files.readAllLines(p, StandardCharsets.UTF_8));
            }
        }
        client.node(120).nodeUnstageVolume(NodeUnstageVolumeRequest.newBuilder().setVolumeId(id)
                .setStagingTargetPath(staging.toString()).build());
        client.deleteVolume(id);
        lines.addAll(Files.readAllLines(driver.logFile(), StandardCharsets.UTF_8));

        assertThat(lines).as("captured log lines").hasSizeGreaterThan(20);
        String secret = Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(
                Base64.getDecoder().decode(cluster.clientKey()), 12, Base64.getDecoder().decode(cluster.clientKey()).length));
        for (String line : lines) {
            assertThat(line).as("a log line").doesNotContain(cluster.clientKey()).doesNotContain(WRONG_KEY)
                    .doesNotContain(secret.substring(0, 16));
        }
        assertThat(lines).as("the denials were logged (without keys)").anyMatch(l -> l.contains("PERMISSION_DENIED"));
    }

    private static StatusRuntimeException denied(Map<String, String> secrets) {
        StatusRuntimeException[] out = new StatusRuntimeException[1];
        assertThatThrownBy(() -> client.controller(30).createVolume(client.create("creds-denied", 8 << 20,
                RbdDriverClient.mount("ext4"), secrets))).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).as("%s", e.getStatus()).isEqualTo(Status.Code.PERMISSION_DENIED);
                    out[0] = e;
                });
        return out[0];
    }
}
