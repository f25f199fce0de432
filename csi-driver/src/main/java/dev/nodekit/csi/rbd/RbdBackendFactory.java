package dev.nodekit.csi.rbd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.Executables;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.csi.rbd.ceph.RadosCluster;

/**
 * Opens the RBD backend: reads {@code --ceph-config}, probes what this host can attach with, and
 * before the first request re-adopts or heals the attachments a previous plugin left
 * (node state under {@code <dataDir>/rbd}).
 */
public final class RbdBackendFactory {
    private static final Logger log = LoggerFactory.getLogger(RbdBackendFactory.class);
    /** How long rbd-fuse may take to expose its image. */
    static final Duration FUSE_TIMEOUT = Duration.ofSeconds(30);

    private RbdBackendFactory() {
    }

    /**
     * Opens the backend for {@code nodekit csi --backend rbd}.
     *
     * @throws IOException naming the file, line and field when the config is wrong, or when the
     *         node state directory cannot be created
     */
    public static RbdBackend open(Path cephConfig, Path dataDir, CommandRunner runner, Clock clock)
            throws IOException {
        RbdConfig config;
        try {
            config = RbdConfig.load(cephConfig);
        } catch (ConfigException e) {
            throw new IOException("--ceph-config " + e.getMessage(), e);
        }
        return open(config, dataDir, runner, clock, DaemonLauncher.setsid(), Procs.system(), Mounts.system(),
                HostSupport.probe(Executables::which, Path.of("/")), Path.of("/sys/block"));
    }

    /** Opens the backend of {@code config} (tests pass their own world). */
    public static RbdBackend open(RbdConfig config, Path dataDir, CommandRunner runner, Clock clock) throws IOException {
        return open(config, dataDir, runner, clock, DaemonLauncher.setsid(), Procs.system(), Mounts.system(),
                HostSupport.probe(Executables::which, Path.of("/")), Path.of("/sys/block"));
    }

    static RbdBackend open(RbdConfig config, Path dataDir, CommandRunner runner, Clock clock, DaemonLauncher launcher,
            Procs procs, Mounts mounts, HostSupport host, Path sysBlock) throws IOException {
        Objects.requireNonNull(config, "config");
        Path stateDir = dataDir.resolve("rbd");
        Files.createDirectories(stateDir);
        Files.setPosixFilePermissions(stateDir, PosixFilePermissions.fromString("rwx------"));
        for (RbdConfig.Cluster c : config.clusters()) {
            if (!c.monitorsHavePrefixes()) {
                log.atWarn().addKeyValue("cluster_id", c.clusterID()).addKeyValue("monitors", c.monitors())
                        .log("monitor addresses without v1:/v2: prefixes: librados then reports wrong credentials only "
                                + "after the connect timeout; write them as [v2:HOST:3300,v1:HOST:6789]");
            }
        }
        log.atInfo().addKeyValue("node_path", host.preferred().map(m -> m.parameterValue).orElse("none"))
                .addKeyValue("krbd", host.krbd() ? "yes" : "no: " + host.whyNotKrbd())
                .addKeyValue("fuse", host.fuse() ? "yes" : "no: " + host.whyNotFuse())
                .addKeyValue("clusters", config.clusterIDs())
                .log("RBD backend: node path chosen for volumes whose StorageClass names no mounter");
        NodeAttachments node = new NodeAttachments(stateDir, host, runner, launcher, procs,
                new LoopDevices(runner, sysBlock, Duration.ofSeconds(60)), mounts, FUSE_TIMEOUT);
        Sessions sessions = new Sessions(config, clock, RadosCluster::connect);
        Duration idleCheck = config.sessionIdleTimeout().dividedBy(4);
        Background background = new Background(sessions, config.flattenWorkers(), idleCheck);
        RbdBackend backend = new RbdBackend(config, sessions, node, background, clock);
        int healed = node.heal(backend::credentialFile);
        log.atInfo().addKeyValue("healed", healed).log("RBD node state reconciled");
        return backend;
    }
}
