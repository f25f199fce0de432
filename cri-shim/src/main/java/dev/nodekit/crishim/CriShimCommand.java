package dev.nodekit.crishim;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.nio.file.InvalidPathException;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.common.config.ConfigException;
import dev.nodekit.common.config.Durations;
import dev.nodekit.common.metrics.Metrics;
import dev.nodekit.common.metrics.MetricsServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code nodekit cri-shim}: runs the shim until SIGTERM. Exit codes: 0 after a graceful stop, 2 for
 * a bad command line or config, 1 when it cannot start (socket taken, plug-in broken).
 */
@Command(name = "cri-shim", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"A CRI proxy on kubelet's runtime endpoint: each CRI call goes to the runtime(s)",
                "through interceptors (audit, metrics, policy, plug-ins) and runtime routing."})
public final class CriShimCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(CriShimCommand.class);

    @Option(names = "--listen", required = true, paramLabel = "ENDPOINT",
            description = "Socket kubelet connects to, e.g. unix:///run/nodekit/cri.sock.")
    String listen;

    @Option(names = "--upstream", paramLabel = "ENDPOINT",
            description = "The runtime's socket, e.g. unix:///run/containerd/containerd.sock "
                    + "(or upstreams: in the config file).")
    String upstream;

    @Option(names = "--config", paramLabel = "FILE", description = "YAML config: interceptors, upstreams, routing, passThrough (frames or grpc).")
    Path config;

    @Option(names = "--metrics-address", paramLabel = "ADDR",
            description = "Serve Prometheus metrics on host:port (e.g. 127.0.0.1:9808); off by default.")
    String metricsAddress;

    @Option(names = "--socket-mode", paramLabel = "OCTAL", description = "Mode of the socket (default 0660).")
    String socketMode;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION",
            description = "How long in-flight calls may finish after SIGTERM (default 10s).")
    String shutdownGrace;

    /**
     * netty settings (grpc's shaded copy) the shim changes unless given with {@code -D}: leak
     * detection samples buffers and records a stack trace for each sampled one, hundreds a second on
     * the forwarding path; its JFR events make the first buffer allocation initialise JFR (about
     * 0.1-0.2 s of start-up, which decides how long a restarted shim keeps kubelet waiting).
     */
    static final Map<String, String> NETTY_DEFAULTS = Map.of(
            "io.grpc.netty.shaded.io.netty.leakDetection.level", "disabled",
            "io.grpc.netty.shaded.io.netty.jfr.enabled", "false");

    /**
     * The options by name, for {@link #parseSimple}; the test keeps this equal to the
     * {@code @Option} annotations above.
     */
    static final Map<String, BiConsumer<CriShimCommand, String>> SIMPLE_OPTIONS = Map.of(
            "--listen", (c, v) -> c.listen = v,
            "--upstream", (c, v) -> c.upstream = v,
            "--config", (c, v) -> c.config = Path.of(v),
            "--metrics-address", (c, v) -> c.metricsAddress = v,
            "--socket-mode", (c, v) -> c.socketMode = v,
            "--shutdown-grace", (c, v) -> c.shutdownGrace = v);

    /**
     * The command line read without picocli, for the way the systemd unit and kubelet's node
     * setups start the shim: known options once each, as {@code --name value} or
     * {@code --name=value}, {@code --listen} present. picocli's classes are Java 5 class files,
     * which an AppCDS archive cannot hold and the JVM verifies the slow way: building this one
     * command cost 0.3-0.9 s of a restarted shim's start-up on a loaded node, while kubelet waited.
     * Empty when anything is unusual (help, version, an unknown or repeated option, a missing
     * value): picocli then parses the line and reports, as before.
     */
    public static Optional<CriShimCommand> parseSimple(String... args) {
        CriShimCommand c = new CriShimCommand();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            String value;
            int eq = name.indexOf('=');
            if (eq > 0) {
                value = name.substring(eq + 1);
                name = name.substring(0, eq);
            } else if (i + 1 < args.length && !args[i + 1].startsWith("-")) {
                value = args[++i];
            } else {
                return Optional.empty();
            }
            BiConsumer<CriShimCommand, String> setter = SIMPLE_OPTIONS.get(name);
            if (setter == null || !seen.add(name)) {
                return Optional.empty();
            }
            try {
                setter.accept(c, value);
            } catch (InvalidPathException e) {
                return Optional.empty();
            }
        }
        return c.listen == null ? Optional.empty() : Optional.of(c);
    }

    @Override
    public Integer call() throws Exception {
        NETTY_DEFAULTS.forEach((k, v) -> {
            if (System.getProperty(k) == null) {
                System.setProperty(k, v); // before any netty class initialises
            }
        });
        CriShimConfig cfg;
        try {
            Duration grace = shutdownGrace == null ? null : Durations.parse(shutdownGrace);
            cfg = CriShimConfig.load(listen, Optional.ofNullable(upstream), Optional.ofNullable(config), socketMode,
                    grace);
        } catch (ConfigException | IllegalArgumentException e) {
            System.err.println("nodekit cri-shim: " + e.getMessage());
            return 2;
        }
        Metrics metrics = Metrics.create();
        CriShim shim;
        try {
            shim = CriShim.start(cfg, metrics, Clock.systemUTC(), true);
        } catch (ConfigException e) {
            System.err.println("nodekit cri-shim: " + e.getMessage());
            return 2;
        } catch (CriShimException e) {
            System.err.println("nodekit cri-shim: " + e.getMessage());
            return 1;
        }
        // After the socket is up: kubelet's first Version call must not wait for JVM metrics or HTTP.
        MetricsServer metricsServer = null;
        if (metricsAddress != null) {
            try {
                metricsServer = MetricsServer.start(metricsAddress, metrics.registerJvmMetrics());
            } catch (Exception e) {
                log.atError().setCause(e).addKeyValue("address", metricsAddress)
                        .log("metrics endpoint not started; the shim serves on without it");
            }
        }
        shim.awaitTermination();
        if (metricsServer != null) {
            metricsServer.close();
        }
        return 0;
    }
}
