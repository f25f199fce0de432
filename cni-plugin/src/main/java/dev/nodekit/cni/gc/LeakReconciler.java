package dev.nodekit.cni.gc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.ipam.Allocation;
import dev.nodekit.cni.ipam.DiskStore;
import dev.nodekit.cni.ipam.FileLocker;
import dev.nodekit.cni.ipam.HostLocalConfig;
import dev.nodekit.cni.net.IpMasq;
import dev.nodekit.spec.cni.CniException;

/**
 * Releases what CNI plugins hold for pod sandboxes the container runtime no longer knows: host-local
 * allocations (nodekit's and the Go plugin's, same files) and the masquerade chains of bridge/ptp
 * networks. For runtimes that never send CNI GC (containerd 1.6 and 1.7), and for the state a node
 * reboot or a lost runtime database leaves behind.
 *
 * <h2>What counts as leaked (all of it, and nothing else)</h2>
 * <ol>
 * <li>The runtime was asked successfully ({@link SandboxLister}); a failed listing aborts the run
 *     before anything is read.</li>
 * <li>The allocation's owner (the container id in its file) is not a sandbox the runtime knows, in
 *     any state. Known sandboxes, ready or not, are never touched: the runtime still owes them a DEL.</li>
 * <li>The file was written before the grace period ({@code now - grace}), or before the node booted.
 *     A sandbox being created is not listed until its CNI ADD has returned (containerd adds it to
 *     its store afterwards), so an allocation younger than the grace may belong to one. Nothing
 *     written before the boot can: after a reboot where the runtime lists nothing, every older
 *     allocation is leaked.</li>
 * </ol>
 * Files naming no owner (empty, corrupt) count as owned by nobody the runtime knows. Each network
 * directory is handled under its host-local lock, through the same {@link FileLocker} as the plugins
 * (in the daemon, its in-process queue first, then {@code flock}), so a reconcile never interleaves
 * with an ADD or DEL on that network. Reservation temp files older than the grace go too.
 *
 * <p>A masquerade chain is removed when the container its comment names is unknown to the runtime
 * and holds no allocation younger than the grace in the network's IPAM. Networks whose IPAM is not
 * host-local style give no such evidence, so their chains are left alone (and reported).
 *
 * <p>Dry run: the same decisions, reported, nothing changed.
 */
public final class LeakReconciler {
    private static final Logger LOG = LoggerFactory.getLogger(LeakReconciler.class);

    private final Path confDir;
    private final SandboxLister lister;
    private final FileLocker locker;
    private final Duration lockTimeout;
    private final Optional<IpMasq> masq;
    private final Clock clock;
    private final Duration grace;
    private final Instant bootTime;

    /**
     * A reconciler.
     *
     * @param confDir     the runtime's CNI conf dir
     * @param lister      asks the runtime for its sandboxes
     * @param locker      takes host-local's lock (the plugins' locker)
     * @param lockTimeout the bound on one network's lock
     * @param masq        masquerade rules; empty to leave chains alone
     * @param clock       the time allocations are compared with
     * @param grace       allocations younger than this are never released (a sandbox may be being created)
     * @param bootTime    when the node booted: nothing written before it can belong to a sandbox being created
     */
    public LeakReconciler(Path confDir, SandboxLister lister, FileLocker locker, Duration lockTimeout,
            Optional<IpMasq> masq, Clock clock, Duration grace, Instant bootTime) {
        this.confDir = Objects.requireNonNull(confDir, "confDir");
        this.lister = Objects.requireNonNull(lister, "lister");
        this.locker = Objects.requireNonNull(locker, "locker");
        this.lockTimeout = Objects.requireNonNull(lockTimeout, "lockTimeout");
        this.masq = Objects.requireNonNull(masq, "masq");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.grace = Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative");
        }
        this.bootTime = Objects.requireNonNull(bootTime, "bootTime");
    }

    /** The default grace: longer than containerd's 4-minute RunPodSandbox bound, with room to spare. */
    public static final Duration DEFAULT_GRACE = Duration.ofMinutes(10);

    /**
     * What one network directory held.
     *
     * @param network  the network name
     * @param dir      its allocation directory
     * @param released allocations released (or that would be, in a dry run)
     * @param inGrace  allocations of unknown owners kept because they are younger than the grace
     * @param kept     allocations of sandboxes the runtime knows
     * @param tempFiles reservation temp files removed
     */
    public record NetworkResult(String network, Path dir, List<Allocation> released, List<Allocation> inGrace, int kept,
            int tempFiles) {
        public NetworkResult {
            released = List.copyOf(released);
            inGrace = List.copyOf(inGrace);
        }
    }

    /**
     * A masquerade chain removed (or that would be).
     *
     * @param network     the network name
     * @param containerId the container named in the chain's comment
     * @param chain       the chain
     * @param family      4 or 6
     */
    public record ChainResult(String network, String containerId, String chain, int family) {
    }

    /**
     * One reconcile.
     *
     * @param dryRun    whether anything was changed
     * @param sandboxes how many sandboxes the runtime listed
     * @param networks  per allocation directory
     * @param chains    chains removed
     * @param problems  what could not be read or released (the rest was still done)
     */
    public record Report(boolean dryRun, int sandboxes, List<NetworkResult> networks, List<ChainResult> chains,
            List<String> problems) {
        public Report {
            networks = List.copyOf(networks);
            chains = List.copyOf(chains);
            problems = List.copyOf(problems);
        }

        /** Allocations released across networks. */
        public int releasedCount() {
            int n = 0;
            for (NetworkResult r : networks) {
                n += r.released().size();
            }
            return n;
        }
    }

    /**
     * Runs once.
     *
     * @throws ReconcileException when the conf dir or the runtime cannot be read (nothing was changed)
     */
    public Report run(boolean dryRun) throws ReconcileException {
        ManagedNetwork.ConfDir conf = ManagedNetwork.read(confDir);
        List<String> problems = new ArrayList<>(conf.problems());
        Set<String> known = lister.sandboxIds();
        Instant now = clock.instant();
        Instant cutoff = now.minus(grace);

        Map<Path, ManagedNetwork> byDir = new LinkedHashMap<>();
        for (ManagedNetwork n : conf.networks()) {
            if (n.ipam().isPresent()) {
                byDir.putIfAbsent(n.ipam().get().networkDir(), n);
            }
        }
        List<NetworkResult> results = new ArrayList<>();
        // Per network name: the unknown containers that still hold a young allocation.
        Map<String, Set<String>> young = new LinkedHashMap<>();
        Set<String> withIpam = new HashSet<>();
        for (ManagedNetwork n : byDir.values()) {
            HostLocalConfig cfg = n.ipam().get();
            withIpam.add(n.network());
            Set<String> y = young.computeIfAbsent(n.network(), k -> new HashSet<>());
            try {
                results.add(reconcile(cfg, known, cutoff, dryRun, y));
            } catch (CniException e) {
                problems.add("network " + n.network() + " (" + cfg.networkDir() + "): " + e.getMessage());
                // Without the allocations read, no chain of this network is provably leaked.
                withIpam.remove(n.network());
            }
        }

        List<ChainResult> chains = new ArrayList<>();
        if (masq.isPresent()) {
            Set<String> seen = new HashSet<>();
            for (ManagedNetwork n : conf.networks()) {
                if (!n.masquerade() || !seen.add(n.network())) {
                    continue;
                }
                if (!withIpam.contains(n.network())) {
                    problems.add("network " + n.network() + ": masquerade chains left alone (its IPAM gives no "
                            + "allocation times to tell a leaked container from one being created)");
                    continue;
                }
                for (int family : new int[] {4, 6}) {
                    reconcileChains(n.network(), family, known, young.getOrDefault(n.network(), Set.of()), dryRun, chains,
                            problems);
                }
            }
        }
        Report r = new Report(dryRun, known.size(), results, chains, problems);
        LOG.atInfo().addKeyValue("dry_run", dryRun).addKeyValue("sandboxes", known.size())
                .addKeyValue("networks", results.size()).addKeyValue("released", r.releasedCount())
                .addKeyValue("chains", chains.size()).addKeyValue("problems", problems.size())
                .log("CNI leak reconcile done");
        return r;
    }

    private NetworkResult reconcile(HostLocalConfig cfg, Set<String> known, Instant cutoff, boolean dryRun,
            Set<String> young) throws CniException {
        DiskStore store = DiskStore.of(cfg.dataDir(), cfg.network(), locker, lockTimeout);
        List<Allocation> released = new ArrayList<>();
        List<Allocation> inGrace = new ArrayList<>();
        int kept = 0;
        int temps = 0;
        if (!store.exists()) {
            return new NetworkResult(cfg.network(), store.dir(), released, inGrace, 0, 0);
        }
        try (FileLocker.Held lock = store.lock()) {
            store.checkFormat(false);
            for (Allocation a : store.allocations()) {
                if (a.containerId().isPresent() && known.contains(a.containerId().get())) {
                    kept++;
                    continue;
                }
                Optional<Instant> written = store.modified(a.ip());
                if (written.isEmpty()) {
                    continue;
                }
                if (written.get().isAfter(cutoff) && written.get().isAfter(bootTime)) {
                    inGrace.add(a);
                    a.containerId().ifPresent(young::add);
                    continue;
                }
                if (dryRun || store.release(a.ip())) {
                    released.add(a);
                    LOG.atInfo().addKeyValue("network", cfg.network()).addKeyValue("ip", a.ip())
                            .addKeyValue("owner", a.containerId().orElse("(none)")).addKeyValue("written", written.get())
                            .addKeyValue("dry_run", dryRun).log("released the allocation of a sandbox the runtime does not know");
                }
            }
            temps = store.removeTempFilesBefore(cutoff, dryRun);
        }
        return new NetworkResult(cfg.network(), store.dir(), released, inGrace, kept, temps);
    }

    private void reconcileChains(String network, int family, Set<String> known, Set<String> young, boolean dryRun,
            List<ChainResult> out, List<String> problems) {
        IpMasq m = masq.get();
        List<String> ids;
        try {
            ids = m.containerIds(network, family);
        } catch (CniException e) {
            problems.add("network " + network + ": cannot list IPv" + family + " masquerade rules: " + e.getMessage());
            return;
        }
        for (String id : ids) {
            if (known.contains(id) || young.contains(id)) {
                continue;
            }
            String chain = IpMasq.chainName(network, id);
            try {
                if (!dryRun) {
                    m.teardown(chain, family);
                }
                out.add(new ChainResult(network, id, chain, family));
                LOG.atInfo().addKeyValue("network", network).addKeyValue("container_id", id).addKeyValue("chain", chain)
                        .addKeyValue("family", family).addKeyValue("dry_run", dryRun)
                        .log("removed the masquerade chain of a sandbox the runtime does not know");
            } catch (CniException e) {
                problems.add("network " + network + ": cannot remove chain " + chain + ": " + e.getMessage());
            }
        }
    }

    /** The node's boot time from {@code /proc/stat} ({@code btime}). */
    public static Instant bootTime(Path procStat) throws IOException {
        for (String line : Files.readAllLines(procStat)) {
            if (line.startsWith("btime ")) {
                return Instant.ofEpochSecond(Long.parseLong(line.substring(6).strip()));
            }
        }
        throw new IOException(procStat + " has no btime line");
    }
}
