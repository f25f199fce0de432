package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.nodekit.e2e.ceph.CephCluster;

/**
 * Test helpers around a {@link CephCluster} for the RBD backend: the {@code --ceph-config} of the
 * cluster, its credential directory (a mounted Secret's layout), the secrets of the restricted
 * user and the StorageClass parameters. Public for the node e2e test ({@code dev.nodekit.e2e.node}).
 */
public final class RbdTestCluster {
    /** The {@code clusterID} of the test cluster in {@code --ceph-config} and StorageClass parameters. */
    public static final String CLUSTER_ID = "ceph-it";

    private RbdTestCluster() {
    }

    /** The secrets a request carries. */
    public static Map<String, String> secrets(CephCluster c) {
        return Map.of("userID", c.clientId(), "userKey", c.clientKey());
    }

    /** StorageClass parameters for the test pool. */
    public static Map<String, String> parameters(CephCluster c) {
        return Map.of("clusterID", CLUSTER_ID, "pool", c.pool());
    }

    /** A credential directory (files userID, userKey) under {@code dir}. */
    public static Path credentialDir(CephCluster c, Path dir) throws IOException {
        Path d = Files.createDirectories(dir.resolve("ceph-secret"));
        write(d.resolve("userID"), c.clientId());
        write(d.resolve("userKey"), c.clientKey());
        return d;
    }

    /** The config of {@code c}, with or without a credential file, and these timeouts. */
    static RbdConfig config(CephCluster c, Path credentials, Duration connect, Duration op, int soft, int hard) {
        return new RbdConfig(null, soft, hard, null, null, List.of(new RbdConfig.Cluster(CLUSTER_ID, c.monitors(), null,
                connect, op, credentials == null ? null : credentials.toString())));
    }

    /** The config with defaults: a credential file, 10 s connect, 20 s per operation. */
    public static RbdConfig config(CephCluster c, Path credentials) {
        return config(c, credentials, Duration.ofSeconds(10), Duration.ofSeconds(20), 4, 8);
    }

    /** Writes {@code config} as the YAML a driver reads with {@code --ceph-config}. */
    public static Path writeYaml(RbdConfig config, Path file) throws IOException {
        StringBuilder y = new StringBuilder();
        y.append("instanceID: ").append(config.instanceID()).append('\n');
        y.append("softMaxCloneDepth: ").append(config.softMaxCloneDepth()).append('\n');
        y.append("hardMaxCloneDepth: ").append(config.hardMaxCloneDepth()).append('\n');
        y.append("clusters:\n");
        for (RbdConfig.Cluster k : config.clusters()) {
            y.append("  - clusterID: ").append(k.clusterID()).append('\n');
            y.append("    monitors: \"").append(k.monitors()).append("\"\n");
            y.append("    connectTimeout: ").append(k.connectTimeout().toSeconds()).append("s\n");
            y.append("    operationTimeout: ").append(k.operationTimeout().toSeconds()).append("s\n");
            if (k.credentialFile() != null) {
                y.append("    credentialFile: ").append(k.credentialFile()).append('\n');
            }
        }
        Files.createDirectories(file.getParent());
        Files.writeString(file, y.toString(), StandardCharsets.UTF_8);
        return file;
    }

    private static void write(Path f, String text) throws IOException {
        Files.writeString(f, text, StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    }
}
