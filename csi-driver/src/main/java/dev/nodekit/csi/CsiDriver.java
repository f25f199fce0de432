package dev.nodekit.csi;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.cli.BuildInfo;
import dev.nodekit.common.exec.CommandRunner;
import dev.nodekit.common.exec.ProcessCommandRunner;
import dev.nodekit.common.grpc.InterceptorOptions;
import dev.nodekit.common.grpc.StandardInterceptors;
import dev.nodekit.common.grpc.UdsServer;
import dev.nodekit.common.grpc.UdsServerException;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.metrics.MetricsServer;
import dev.nodekit.common.mount.Mounter;
import dev.nodekit.common.mount.Mounts;
import dev.nodekit.csi.spi.Health;
import dev.nodekit.csi.spi.StorageBackend;

/**
 * A running CSI driver: the services {@link CsiConfig#mode()} asks for (Identity always) on one
 * unix socket behind the standard interceptors, and the optional metrics endpoint. {@link #start}
 * reconciles the node with the backend before the socket opens, so the first call already sees a
 * consistent node. {@link #close()} drains the server and closes the backend.
 */
public final class CsiDriver implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CsiDriver.class);
    /**
     * Longest a heavy operation waits for a slot (less when its call's deadline is nearer). A
     * waiting call holds a handler thread, so waits are kept short: past this the call is ABORTED
     * and the sidecar retries with backoff, and Probe never queues for long behind parked calls.
     */
    static final Duration HEAVY_MAX_WAIT = Duration.ofSeconds(30);
    /**
     * gRPC handler threads. Enough for kubelet and four sidecars (10 workers each in the
     * DaemonSet) with heavy calls parked in the {@link WorkLimiter}; each idle thread costs stack
     * memory against the 96 MiB RSS goal. Calls beyond it queue, they are not refused.
     */
    static final int HANDLER_THREADS = 16;

    private final CsiConfig config;
    private final StorageBackend backend;
    private final UdsServer server;
    private final Optional<MetricsServer> metricsServer;

    /** The world the driver acts on; only {@code main} passes {@link #system()}. */
    public record Environment(CommandRunner runner, Mounts mounts, Clock clock, Metrics metrics) {
        public Environment {
            Objects.requireNonNull(runner, "runner");
            Objects.requireNonNull(mounts, "mounts");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(metrics, "metrics");
        }

        /** Real commands, this process' mount table, the system clock, a fresh registry. */
        public static Environment system() {
            return new Environment(new ProcessCommandRunner(), Mounts.system(), Clock.systemUTC(), Metrics.create());
        }
    }

    private CsiDriver(CsiConfig config, StorageBackend backend, UdsServer server, Optional<MetricsServer> metricsServer) {
        this.config = config;
        this.backend = backend;
        this.server = server;
        this.metricsServer = metricsServer;
    }

    /**
     * Builds the services, reconciles the node, opens the socket (and the metrics endpoint).
     * The driver owns {@code backend} from here on and closes it in {@link #close()}.
     */
    public static CsiDriver start(CsiConfig config, StorageBackend backend, Environment env)
            throws UdsServerException, IOException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(backend, "backend");
        Objects.requireNonNull(env, "env");
        Topology topology = new Topology(config.topologyKey(), config.nodeId());
        WorkLimiter limiter = new WorkLimiter(config.maxHeavyOperations(), HEAVY_MAX_WAIT, env.metrics());
        UdsServer.Builder b = UdsServer.builder(config.socket()).executorThreads(HANDLER_THREADS);
        b.addService(new CsiIdentityService(config.driverName(), BuildInfo.current().versionWithCommit(),
                CsiIdentityService.driverCapabilities(config.mode().controller()), () -> health(backend)));
        if (config.mode().controller()) {
            b.addService(new CsiControllerService(backend, topology, limiter));
        }
        if (config.mode().node()) {
            CsiNodeService node = new CsiNodeService(backend, config.nodeId(), config.maxVolumesPerNode(), topology,
                    new Mounter(env.runner(), env.mounts()), env.mounts(), new Filesystems(env.runner()), limiter);
            node.reconcile();
            b.addService(node);
        }
        b.interceptors(StandardInterceptors.standard(env.metrics(),
                InterceptorOptions.defaults().withQuietMethods("csi.v1.Identity/Probe")));
        UdsServer server = b.build();
        Optional<MetricsServer> metrics = Optional.empty();
        try {
            server.start();
            if (config.metricsAddress().isPresent()) {
                env.metrics().registerJvmMetrics();
                metrics = Optional.of(MetricsServer.start(config.metricsAddress().get(), env.metrics()));
            }
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
        log.atInfo().addKeyValue("driver", config.driverName()).addKeyValue("node_id", config.nodeId())
                .addKeyValue("mode", config.mode()).addKeyValue("backend", backend.kind())
                .addKeyValue("socket", config.socket()).addKeyValue("version", BuildInfo.current().versionWithCommit())
                .log("CSI driver serving");
        return new CsiDriver(config, backend, server, metrics);
    }

    private static CsiIdentityService.Health health(StorageBackend backend) {
        Health h = backend.health();
        return h.healthy() ? new CsiIdentityService.Health.Ready() : new CsiIdentityService.Health.Unhealthy(h.message());
    }

    public CsiConfig config() {
        return config;
    }

    /** Blocks until the server has stopped (SIGTERM, or {@link #close()} from another thread). */
    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    /** The port of the metrics endpoint, if one is open (port 0 in the config picks a free one). */
    public Optional<Integer> metricsPort() {
        return metricsServer.map(MetricsServer::port);
    }

    @Override
    public void close() {
        server.close();
        metricsServer.ifPresent(MetricsServer::close);
        backend.close();
    }
}
