package dev.nodekit.cni.daemon;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.api.CniPlugin;
import dev.nodekit.cni.gc.CniGcCommand;
import dev.nodekit.cni.gc.LeakReconciler;
import dev.nodekit.cni.gc.ReconcileException;
import dev.nodekit.cni.ipam.FileLocker;
import dev.nodekit.cni.ipam.FlockLocker;
import dev.nodekit.cni.ipam.InProcessLocker;
import dev.nodekit.common.config.Durations;
import dev.nodekit.common.exec.ProcessCommandRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit cni daemon}: the node daemon behind the thin CNI clients ({@link CniDaemon}), and,
 * with {@code --cri-endpoint}, the leak reconciler every {@code --gc-interval}. Runs until SIGTERM
 * (then drains, see {@link CniDaemon#close()}). Exit 1 when it cannot start, 2 for bad options.
 */
@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = "Serve nodekit's CNI plugins to the thin clients on a unix socket (and reclaim leaked "
                + "allocations periodically with --cri-endpoint).")
public final class CniDaemonCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(CniDaemonCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--socket", defaultValue = "/run/nodekit/cni.sock",
            description = "the socket the clients use; its directory is made 0700 (default: ${DEFAULT-VALUE})")
    Path socket;

    @Option(names = "--own-socket-dir", description = "the socket's directory is the daemon's own: make it 0700 if it "
            + "is not (a hostPath kubelet created 0755), instead of refusing it")
    boolean ownSocketDir;

    @Option(names = "--max-concurrent", defaultValue = "16", description = "plugin calls at once (default: ${DEFAULT-VALUE})")
    int maxConcurrent;

    @Option(names = "--max-connections", defaultValue = "512",
            description = "connections at once, waiting ones included (default: ${DEFAULT-VALUE})")
    int maxConnections;

    @Option(names = "--cri-endpoint", paramLabel = "unix:///PATH",
            description = "enables the periodic leak reconciler against this CRI runtime")
    String criEndpoint;

    @Option(names = "--conf-dir", defaultValue = "/etc/cni/net.d",
            description = "the runtime's CNI conf dir, for the reconciler (default: ${DEFAULT-VALUE})")
    Path confDir;

    @Option(names = "--gc-interval", defaultValue = "10m", paramLabel = "DURATION",
            description = "time between reconciles (default: ${DEFAULT-VALUE}); the first runs a minute after start")
    String gcInterval;

    @Option(names = "--gc-grace", defaultValue = "10m", paramLabel = "DURATION",
            description = "allocations younger than this are never reclaimed (default: ${DEFAULT-VALUE})")
    String gcGrace;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter err = spec.commandLine().getErr();
        DaemonConfig config;
        Duration interval;
        Duration grace;
        try {
            DaemonConfig d = DaemonConfig.defaults(socket.toAbsolutePath());
            config = new DaemonConfig(d.socket(), maxConcurrent, maxConnections, d.admissionWait(), d.ioTimeout(),
                    d.shutdownGrace(), ownSocketDir);
            interval = Durations.parse(gcInterval);
            grace = Durations.parse(gcGrace);
            if (interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("--gc-interval must be positive");
            }
        } catch (IllegalArgumentException e) {
            err.println("nodekit cni daemon: " + e.getMessage());
            return 2;
        }
        FileLocker locker = new InProcessLocker(new FlockLocker());
        Map<String, CniPlugin> plugins = DaemonPlugins.standard(new ProcessCommandRunner(), locker, System.err);
        LeakReconciler reconciler = null;
        if (criEndpoint != null) {
            try {
                reconciler = CniGcCommand.reconciler(criEndpoint, confDir, grace, locker);
            } catch (IllegalArgumentException | IOException e) {
                err.println("nodekit cni daemon: " + e.getMessage());
                return 2;
            }
        }
        CniDaemon daemon;
        try {
            daemon = CniDaemon.start(config, plugins);
        } catch (IOException e) {
            err.println("nodekit cni daemon: cannot serve " + config.socket() + ": " + e.getMessage());
            return 1;
        }
        ScheduledExecutorService gc = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cni-leak-reconciler");
            t.setDaemon(true);
            return t;
        });
        if (reconciler != null) {
            LeakReconciler rec = reconciler;
            long first = Math.min(interval.toMillis(), 60_000);
            gc.scheduleWithFixedDelay(() -> reconcile(rec), first, interval.toMillis(), TimeUnit.MILLISECONDS);
            LOG.atInfo().addKeyValue("cri_endpoint", criEndpoint).addKeyValue("conf_dir", confDir)
                    .addKeyValue("interval", Durations.format(interval)).addKeyValue("grace", Durations.format(grace))
                    .log("leak reconciler scheduled");
        }
        Thread hook = new Thread(() -> {
            gc.shutdownNow();
            daemon.close();
        }, "cni-daemon-stop");
        Runtime.getRuntime().addShutdownHook(hook);
        daemon.awaitTermination();
        return 0;
    }

    private static void reconcile(LeakReconciler r) {
        try {
            r.run(false);
        } catch (ReconcileException e) {
            LOG.atWarn().log("leak reconcile skipped: " + e.getMessage());
        } catch (RuntimeException e) {
            LOG.atError().setCause(e).log("leak reconcile failed");
        }
    }
}
