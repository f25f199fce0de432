package dev.nodekit.cni.gc;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.nodekit.cni.ipam.Allocation;
import dev.nodekit.cni.ipam.FileLocker;
import dev.nodekit.cni.ipam.FlockLocker;
import dev.nodekit.cni.ipam.HostLocalIpam;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.common.config.Durations;
import dev.nodekit.common.exec.ProcessCommandRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit cni gc}: one run of the {@link LeakReconciler}. Exit 0 when it ran (problems with
 * single networks are printed and counted), 1 when it could not (runtime or conf dir unreadable;
 * nothing was released), 2 for bad options.
 */
@Command(name = "gc", mixinStandardHelpOptions = true,
        description = "Release host-local allocations and masquerade chains of pod sandboxes the container runtime "
                + "no longer knows (runtimes such as containerd 1.6/1.7 never send CNI GC).")
public final class CniGcCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--cri-endpoint", required = true, paramLabel = "unix:///PATH",
            description = "the runtime's CRI socket, e.g. unix:///run/containerd/containerd.sock")
    String criEndpoint;

    @Option(names = "--conf-dir", defaultValue = "/etc/cni/net.d", description = "the runtime's CNI conf dir (default: ${DEFAULT-VALUE})")
    Path confDir;

    @Option(names = "--grace", defaultValue = "10m", paramLabel = "DURATION",
            description = "never release an allocation younger than this, unless written before the boot (default: ${DEFAULT-VALUE})")
    String grace;

    @Option(names = "--dry-run", description = "report what would be released, change nothing")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        LeakReconciler r;
        try {
            r = reconciler(criEndpoint, confDir, Durations.parse(grace), new FlockLocker());
        } catch (IllegalArgumentException | IOException e) {
            err.println("nodekit cni gc: " + e.getMessage());
            return 2;
        }
        try {
            print(r.run(dryRun), out);
            return 0;
        } catch (ReconcileException e) {
            err.println("nodekit cni gc: " + e.getMessage() + " (nothing was released)");
            return 1;
        }
    }

    /** A reconciler on the real node: CRI at {@code endpoint}, masquerade through iptables, boot time from /proc/stat. */
    public static LeakReconciler reconciler(String endpoint, Path confDir, Duration grace,
            FileLocker locker) throws IOException {
        return new LeakReconciler(confDir.toAbsolutePath(), new CriSandboxLister(endpoint, Duration.ofSeconds(30)), locker,
                HostLocalIpam.DEFAULT_LOCK_TIMEOUT, Optional.of(new IpMasq(new ProcessCommandRunner(), IpMasq.DEFAULT_LOCK_WAIT)),
                Clock.systemUTC(), grace, LeakReconciler.bootTime(Path.of("/proc/stat")));
    }

    /** The report, one line per release, chain and problem, then a summary. */
    public static void print(LeakReconciler.Report r, PrintWriter out) {
        String verb = r.dryRun() ? "would release" : "released";
        for (LeakReconciler.NetworkResult n : r.networks()) {
            for (Allocation a : n.released()) {
                out.println(n.network() + ": " + verb + " " + a.ip() + " (owner " + (a.containerId().isPresent()
                        ? a.containerId().get() + a.ifName().map(i -> "/" + i).orElse("") : "none") + ")");
            }
            for (Allocation a : n.inGrace()) {
                out.println(n.network() + ": kept " + a + " (younger than the grace period)");
            }
            out.println(n.network() + ": " + n.dir() + ": " + n.released().size() + " " + verb + ", " + n.kept()
                    + " of known sandboxes, " + n.inGrace().size() + " within the grace period"
                    + (n.tempFiles() > 0 ? ", " + n.tempFiles() + " stale temp files" : ""));
        }
        for (LeakReconciler.ChainResult c : r.chains()) {
            out.println(c.network() + ": " + (r.dryRun() ? "would remove" : "removed") + " IPv" + c.family() + " chain "
                    + c.chain() + " of " + c.containerId());
        }
        for (String p : r.problems()) {
            out.println("problem: " + p);
        }
        out.println((r.dryRun() ? "dry run: " : "") + r.sandboxes() + " sandboxes known to the runtime, "
                + r.releasedCount() + " allocations and " + r.chains().size() + " chains "
                + (r.dryRun() ? "would be reclaimed" : "reclaimed") + ", " + r.problems().size() + " problems");
        out.flush();
    }
}
