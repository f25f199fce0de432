package dev.nodekit.cni.ipam;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.cni.api.CniLog;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.CniVersion;
import dev.nodekit.spec.cni.Dns;
import dev.nodekit.spec.cni.GcAttachment;
import dev.nodekit.spec.cni.IpConfig;
import dev.nodekit.spec.cni.Result;

/**
 * host-local as a library: allocate, release, check, collect and report on a {@link DiskStore}, with
 * the Go plugin's semantics and messages. Every operation that reads and changes the directory holds
 * its lock for the whole operation (all range sets at once, where Go locks per set).
 *
 * <p>Thread-safe: it keeps no state between calls; concurrent calls in this JVM or in other processes
 * serialise on the directory's lock.
 */
@SuppressWarnings("try")
public final class HostLocalIpam {

    /**
     * The default bound on waiting for a directory's lock: long enough for a burst of pod starts on a
     * busy node (100 parallel ADDs on 2 loaded cores queue for tens of seconds; Go's host-local waits
     * without bound), well inside the runtime's RunPodSandbox deadline (minutes).
     */
    public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(60);

    private final FileLocker locker;
    private final Duration lockTimeout;

    /** An IPAM taking locks with {@code locker}, waiting at most {@code lockTimeout} (then code 11). */
    public HostLocalIpam(FileLocker locker, Duration lockTimeout) {
        if (locker == null || lockTimeout == null || lockTimeout.isNegative()) {
            throw new IllegalArgumentException("locker and a non-negative lockTimeout are required");
        }
        this.locker = locker;
        this.lockTimeout = lockTimeout;
    }

    /** The store of {@code config}'s network. */
    public DiskStore store(HostLocalConfig config) {
        return DiskStore.of(config.dataDir(), config.network(), locker, lockTimeout);
    }

    /**
     * Allocates one address per range set for {@code (containerId, ifName)}, honouring requested
     * addresses; on any failure nothing stays allocated.
     *
     * @return an IPAM result (addresses with gateways, routes, dns) in the 1.x model
     */
    public Result add(HostLocalConfig config, String containerId, String ifName) throws CniException {
        Optional<Dns> dns = config.resolvConf().isPresent() ? Optional.of(ResolvConf.read(config.resolvConf().get()))
                : Optional.empty();
        DiskStore store = store(config);
        List<IpConfig> ips = new ArrayList<>(config.rangeSets().size());
        try (FileLocker.Held lock = store.lock()) {
            store.checkFormat(true);
            List<Allocation> existing = store.allocations();
            Set<IpAddress> taken = new HashSet<>();
            for (Allocation a : existing) {
                taken.add(a.ip());
            }
            List<IpAddress> requested = new ArrayList<>(config.requestedIps());
            List<IpAddress> reserved = new ArrayList<>();
            boolean ok = false;
            try {
                for (int i = 0; i < config.rangeSets().size(); i++) {
                    RangeSet set = config.rangeSets().get(i);
                    IpAddress want = null;
                    for (Iterator<IpAddress> it = requested.iterator(); it.hasNext();) {
                        IpAddress r = it.next();
                        if (set.contains(r)) {
                            want = r;
                            it.remove();
                            break;
                        }
                    }
                    IpAddress got;
                    try {
                        got = want != null ? reserveRequested(store, set, i, containerId, ifName, want)
                                : reserveNext(store, set, i, containerId, ifName, existing, taken);
                    } catch (CniException e) {
                        throw new CniException(e.code(), "failed to allocate for range " + i + ": " + e.getMessage(),
                                e.details().orElse(null));
                    }
                    reserved.add(got);
                    taken.add(got);
                    AddressRange range = set.rangeFor(got);
                    ips.add(IpConfig.of(range.withPrefix(got).toString(), range.gateway().toString()));
                }
                if (!requested.isEmpty()) {
                    StringBuilder sb = new StringBuilder("failed to allocate all requested IPs:");
                    for (IpAddress r : requested) {
                        sb.append(' ').append(r.toString());
                    }
                    throw new CniException(CniError.INTERNAL, sb.toString());
                }
                ok = true;
            } finally {
                if (!ok) {
                    for (IpAddress ip : reserved) {
                        store.release(ip);
                    }
                }
            }
        }
        if (CniLog.debug()) {
            Log.LOG.atDebug().addKeyValue("network", config.network()).addKeyValue("container_id", containerId)
                    .addKeyValue("ifname", ifName).addKeyValue("ips", ips.size()).log("allocated");
        }
        return Result.of(CniVersion.LATEST, List.of(), ips, config.routes(), dns);
    }

    private static IpAddress reserveRequested(DiskStore store, RangeSet set, int index, String id, String ifName,
            IpAddress want) throws CniException {
        AddressRange r = set.rangeFor(want);
        if (r == null) {
            throw new CniException(CniError.INTERNAL, want + " not in range set " + set);
        }
        if (want.equals(r.gateway())) {
            throw new CniException(CniError.INTERNAL, "requested ip " + want + " is subnet's gateway");
        }
        if (!store.reserve(id, ifName, want, index)) {
            throw new CniException(CniError.INTERNAL, "requested IP address " + want + " is not available in range set "
                    + set);
        }
        return want;
    }

    private static IpAddress reserveNext(DiskStore store, RangeSet set, int index, String id, String ifName,
            List<Allocation> existing, Set<IpAddress> taken) throws CniException {
        long inSet = 0;
        for (Allocation a : existing) {
            if (set.contains(a.ip())) {
                if (a.isOwnedBy(id, ifName) || a.isLegacyOwnedBy(id)) {
                    throw new CniException(CniError.INTERNAL, a.ip() + " has been allocated to " + id
                            + ", duplicate allocation is not allowed");
                }
                AddressRange r = set.rangeFor(a.ip());
                if (!a.ip().equals(r.gateway())) {
                    inSet++;
                }
            }
        }
        if (inSet >= set.capacity()) {
            throw new CniException(CniError.INTERNAL, "no IP addresses available in range set: " + set);
        }
        Optional<IpAddress> last = store.lastReserved(index);
        Iterable<IpAddress> candidates = new Untaken(new RangeIterator(set, last.orElse(null)), taken);
        IpAddress got = store.reserveFirst(id, ifName, candidates, index);
        if (got == null) {
            throw new CniException(CniError.INTERNAL, "no IP addresses available in range set: " + set);
        }
        return got;
    }

    /** Candidates from the iterator that the directory listing does not already show as taken. */
    private static final class Untaken implements Iterable<IpAddress>, Iterator<IpAddress> {
        private final Iterator<IpAddress> it;
        private final Set<IpAddress> taken;
        private IpAddress next;

        Untaken(Iterator<IpAddress> it, Set<IpAddress> taken) {
            this.it = it;
            this.taken = taken;
        }

        @Override
        public Iterator<IpAddress> iterator() {
            return this;
        }

        @Override
        public boolean hasNext() {
            while (next == null && it.hasNext()) {
                IpAddress c = it.next();
                if (!taken.contains(c)) {
                    next = c;
                }
            }
            return next != null;
        }

        @Override
        public IpAddress next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            IpAddress n = next;
            next = null;
            return n;
        }
    }

    /**
     * Releases what {@code (containerId, ifName)} holds; nothing held (or no directory) is success.
     *
     * @return the addresses released
     */
    public List<IpAddress> del(HostLocalConfig config, String containerId, String ifName) throws CniException {
        DiskStore store = store(config);
        if (!store.exists()) {
            return List.of();
        }
        List<IpAddress> released;
        try (FileLocker.Held lock = store.lock()) {
            store.checkFormat(false);
            released = store.releaseOwner(containerId, ifName);
        }
        if (CniLog.debug()) {
            Log.LOG.atDebug().addKeyValue("network", config.network()).addKeyValue("container_id", containerId)
                    .addKeyValue("ifname", ifName).addKeyValue("released", released.size()).log("released");
        }
        return released;
    }

    /**
     * Verifies that {@code (containerId, ifName)} holds an address, and, when the previous result is
     * given, that each of its addresses inside this network's ranges is recorded for that owner.
     */
    public void check(HostLocalConfig config, String containerId, String ifName, Optional<Result> prevResult)
            throws CniException {
        DiskStore store = store(config);
        List<Allocation> mine = new ArrayList<>();
        if (store.exists()) {
            try (FileLocker.Held lock = store.lock()) {
                store.checkFormat(false);
                List<Allocation> all = store.allocations();
                for (Allocation a : all) {
                    if (a.isOwnedBy(containerId, ifName)) {
                        mine.add(a);
                    }
                }
                if (mine.isEmpty()) {
                    for (Allocation a : all) {
                        if (a.isLegacyOwnedBy(containerId)) {
                            mine.add(a);
                        }
                    }
                }
            }
        }
        if (mine.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "host-local: Failed to find address added by container "
                    + containerId);
        }
        if (prevResult.isEmpty()) {
            return;
        }
        for (IpConfig ip : prevResult.get().ips()) {
            IpAddress a = IpNetwork.parse(ip.address()).address();
            boolean ours = false;
            for (RangeSet s : config.rangeSets()) {
                ours |= s.contains(a);
            }
            if (!ours) {
                continue;
            }
            boolean recorded = false;
            for (Allocation m : mine) {
                recorded |= m.ip().equals(a);
            }
            if (!recorded) {
                throw new CniException(CniError.INTERNAL, "host-local: " + a + " from prevResult is not allocated to "
                        + containerId + "/" + ifName + " in " + store.dir());
            }
        }
    }

    /**
     * Releases every allocation whose owner is not among {@code valid} (id-only files are kept when a
     * valid attachment has that container id; files naming no owner are released), and reservation
     * leftovers. Continues past failures and reports them together.
     *
     * @return the addresses released
     */
    public List<IpAddress> gc(HostLocalConfig config, List<GcAttachment> valid) throws CniException {
        DiskStore store = store(config);
        if (!store.exists()) {
            return List.of();
        }
        List<IpAddress> released = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        try (FileLocker.Held lock = store.lock()) {
            store.checkFormat(false);
            for (Allocation a : store.allocations()) {
                if (isValid(a, valid)) {
                    continue;
                }
                try {
                    if (store.release(a.ip())) {
                        released.add(a.ip());
                        Log.LOG.atInfo().addKeyValue("network", config.network()).addKeyValue("ip", a.ip())
                                .addKeyValue("owner", a.isOwnerless() ? "(none)" : a.containerId().get())
                                .log("GC released an allocation of a container that is not valid");
                    }
                } catch (CniException e) {
                    failures.add(e.getMessage());
                }
            }
            store.removeTempFiles(null, null);
        }
        if (!failures.isEmpty()) {
            throw new CniException(CniError.INTERNAL, "GC could not release every stale allocation",
                    String.join("; ", failures));
        }
        return released;
    }

    private static boolean isValid(Allocation a, List<GcAttachment> valid) {
        if (a.isOwnerless()) {
            return false;
        }
        for (GcAttachment v : valid) {
            if (a.isOwnedBy(v.containerID(), v.ifname()) || a.isLegacyOwnedBy(v.containerID())) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether ADD can succeed: the marker is one we read, the directory is writable, and no range set
     * is exhausted. Both failures are {@link CniError#PLUGIN_NOT_AVAILABLE} (50): existing containers
     * keep their addresses and connectivity, so 51 does not apply to an IPAM.
     */
    public void status(HostLocalConfig config) throws CniException {
        DiskStore store = store(config);
        if (store.exists()) {
            try {
                store.checkFormat(false);
            } catch (CniException e) {
                throw new CniException(CniError.PLUGIN_NOT_AVAILABLE, e.getMessage());
            }
        }
        Optional<String> problem = store.writeProblem();
        if (problem.isPresent()) {
            throw new CniException(CniError.PLUGIN_NOT_AVAILABLE, "IPAM directory " + store.dir() + " is not writable",
                    problem.get());
        }
        List<Allocation> all = store.allocations();
        for (int i = 0; i < config.rangeSets().size(); i++) {
            RangeSet set = config.rangeSets().get(i);
            long used = 0;
            for (Allocation a : all) {
                AddressRange r = set.rangeFor(a.ip());
                if (r != null && !a.ip().equals(r.gateway())) {
                    used++;
                }
            }
            if (used >= set.capacity()) {
                throw new CniException(CniError.PLUGIN_NOT_AVAILABLE, "IP pool exhausted: range set " + i + " (" + set
                        + ") has all " + used + " addresses allocated");
            }
        }
    }

    /** The logger, created on first use: SLF4J stays unloaded on a successful call (see {@link CniLog}). */
    private static final class Log {
        static final Logger LOG = LoggerFactory.getLogger(HostLocalIpam.class);
    }
}
