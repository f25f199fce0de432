package dev.nodekit.cni.ipam;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.IpRange;
import dev.nodekit.spec.cni.IpamConfig;
import dev.nodekit.spec.cni.NetConf;
import dev.nodekit.spec.cni.Route;

/**
 * host-local's configuration as its {@code LoadIPAMConfig} builds it from the whole network
 * configuration and {@code CNI_ARGS}.
 *
 * <p>Range sets, in order: {@code runtimeConfig.ipRanges} (the capability), then the legacy single
 * range ({@code ipam.subnet}...), then {@code ipam.ranges}; each set is canonicalised and no two sets
 * may overlap. Requested addresses accumulate from {@code CNI_ARGS IP=}, {@code args.cni.ips} and
 * {@code runtimeConfig.ips} (an address or a CIDR, whose prefix is ignored).
 *
 * @param network      the network name: the directory under {@link #dataDir()}
 * @param dataDir      the state directory ({@code ipam.dataDir}, default {@link #DEFAULT_DATA_DIR})
 * @param rangeSets    the range sets, at least one
 * @param routes       routes to return
 * @param resolvConf   a resolv.conf whose content becomes the result's {@code dns}
 * @param requestedIps addresses the runtime asks for
 */
public record HostLocalConfig(String network, Path dataDir, List<RangeSet> rangeSets, List<Route> routes,
        Optional<Path> resolvConf, List<IpAddress> requestedIps) {

    /** host-local's default state directory. */
    public static final Path DEFAULT_DATA_DIR = Path.of("/var/lib/cni/networks");

    public HostLocalConfig {
        if (network == null || network.isEmpty() || network.indexOf('/') >= 0 || network.startsWith(".")) {
            throw new IllegalArgumentException("network: '" + network + "' cannot name a directory");
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("dataDir: required");
        }
        rangeSets = List.copyOf(rangeSets);
        if (rangeSets.isEmpty()) {
            throw new IllegalArgumentException("no IP ranges specified");
        }
        routes = List.copyOf(routes);
        resolvConf = resolvConf == null ? Optional.empty() : resolvConf;
        requestedIps = List.copyOf(requestedIps);
    }

    /** The directory holding this network's allocations. */
    public Path networkDir() {
        return dataDir.resolve(network);
    }

    /**
     * Builds the configuration host-local would use.
     *
     * @throws CniException code 7 naming the problem (missing {@code ipam}, no ranges, an invalid or
     *                      overlapping range set, an unparsable requested address)
     */
    public static HostLocalConfig from(NetConf conf, CniArgs args) throws CniException {
        if (conf.ipam().isEmpty()) {
            throw invalid("IPAM config missing 'ipam' key");
        }
        IpamConfig ipam = conf.ipam().get();
        List<IpAddress> requested = new ArrayList<>();
        Optional<String> envIp = args.nonEmpty("IP");
        if (envIp.isPresent()) {
            requested.add(requestedIp(envIp.get(), "CNI_ARGS IP"));
        }
        Object argIps = conf.argsCni().get("ips");
        if (argIps instanceof List) {
            List<?> l = (List<?>) argIps;
            for (int i = 0; i < l.size(); i++) {
                Object o = l.get(i);
                if (!(o instanceof String)) {
                    throw invalid("args.cni.ips[" + i + "]: expected an IP address string");
                }
                requested.add(requestedIp((String) o, "args.cni.ips[" + i + "]"));
            }
        } else if (argIps != null) {
            throw invalid("args.cni.ips: expected a list of IP addresses");
        }
        if (conf.runtimeConfig().isPresent()) {
            List<String> ips = conf.runtimeConfig().get().ips();
            for (int i = 0; i < ips.size(); i++) {
                requested.add(requestedIp(ips.get(i), "runtimeConfig.ips[" + i + "]"));
            }
        }

        List<List<IpRange>> specs = new ArrayList<>();
        if (conf.runtimeConfig().isPresent()) {
            specs.addAll(conf.runtimeConfig().get().ipRanges());
        }
        specs.addAll(ipam.allRanges());
        if (specs.isEmpty()) {
            throw invalid("no IP ranges specified");
        }
        List<RangeSet> sets = new ArrayList<>(specs.size());
        for (int i = 0; i < specs.size(); i++) {
            try {
                sets.add(RangeSet.of(specs.get(i)));
            } catch (IllegalArgumentException e) {
                throw invalid("invalid range set " + i + ": " + e.getMessage());
            }
        }
        for (int i = 0; i < sets.size(); i++) {
            for (int j = i + 1; j < sets.size(); j++) {
                if (sets.get(i).overlaps(sets.get(j))) {
                    throw invalid("range set " + i + " overlaps with " + j);
                }
            }
        }
        for (Route r : ipam.routes()) {
            if (r.gw().isPresent() && IpAddress.parseOrNull(r.gw().get()) == null) {
                throw invalid("ipam.routes: gateway '" + r.gw().get() + "' is not an IP address");
            }
        }
        if (conf.name().isEmpty()) {
            throw invalid("missing network name");
        }
        String name = conf.name().get();
        Path dataDir = ipam.dataDir().isPresent() && !ipam.dataDir().get().isEmpty() ? Path.of(ipam.dataDir().get())
                : DEFAULT_DATA_DIR;
        Optional<Path> resolv = ipam.resolvConf().isPresent() && !ipam.resolvConf().get().isEmpty()
                ? Optional.of(Path.of(ipam.resolvConf().get())) : Optional.empty();
        try {
            return new HostLocalConfig(name, dataDir, sets, ipam.routes(), resolv, requested);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static IpAddress requestedIp(String text, String where) throws CniException {
        IpAddress ip = IpAddress.parseOrNull(text);
        if (ip == null) {
            IpNetwork n = IpNetwork.parseOrNull(text);
            if (n == null) {
                throw invalid("cannot understand ip: " + where + " '" + text + "' is not an IP address");
            }
            ip = n.address();
        }
        return ip;
    }

    private static CniException invalid(String msg) {
        return new CniException(CniError.INVALID_NETWORK_CONFIG, msg);
    }
}
