package dev.nodekit.cni.bridge;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

import dev.nodekit.cni.api.CniArgs;
import dev.nodekit.cni.net.InterfaceNames;
import dev.nodekit.cni.net.MacAddress;
import dev.nodekit.spec.cni.CniError;
import dev.nodekit.spec.cni.CniException;
import dev.nodekit.spec.cni.NetConf;

/**
 * The bridge plugin's keys of a network configuration, with the Go plugin's names and defaults
 * ({@code bridge} = {@code cni0}, {@code preserveDefaultVlan} = true, everything else off).
 * {@code isDefaultGateway} implies {@code isGateway}. The MAC of the container interface comes from
 * {@code runtimeConfig.mac}, else {@code args.cni.mac}, else {@code CNI_ARGS MAC=}.
 *
 * <p>Refused with code 2 rather than silently ignored: {@code macspoofchk: true} and
 * {@code ipMasqBackend: "nftables"}, which need nftables rules nodekit does not write.
 *
 * @param bridge                    the bridge name
 * @param isGateway                 put the gateway address on the bridge and enable forwarding
 * @param isDefaultGateway          also add a default route via the gateway
 * @param forceAddress              replace a different address already on the bridge
 * @param ipMasq                    masquerade traffic leaving the subnet
 * @param mtu                       MTU of the bridge and veths, 0 = kernel default
 * @param hairpinMode               let traffic return through the port it came in on
 * @param promiscMode               put the bridge in promiscuous mode
 * @param vlan                      access VLAN of the container's port, 0 = none
 * @param vlanTrunk                 tagged VLANs of the container's port
 * @param preserveDefaultVlan       keep VLAN 1 on the port when tagging
 * @param enableDad                 run IPv6 duplicate address detection (and wait for it)
 * @param disableContainerInterface leave the container interface down (layer 2 only, no IPAM)
 * @param portIsolation             isolate the port from other isolated ports
 * @param mac                       the container interface's MAC, when requested
 * @param ipamType                  {@code ipam.type}, absent for layer 2 only
 */
public record BridgeConfig(String bridge, boolean isGateway, boolean isDefaultGateway, boolean forceAddress,
        boolean ipMasq, int mtu, boolean hairpinMode, boolean promiscMode, int vlan, List<Integer> vlanTrunk,
        boolean preserveDefaultVlan, boolean enableDad, boolean disableContainerInterface, boolean portIsolation,
        Optional<String> mac, Optional<String> ipamType) {

    /** The Go plugin's default bridge name. */
    public static final String DEFAULT_BRIDGE = "cni0";

    public BridgeConfig {
        InterfaceNames.check(bridge, "bridge");
        vlanTrunk = List.copyOf(vlanTrunk);
        if (mtu < 0 || mtu > 65535) {
            throw new IllegalArgumentException("mtu: " + mtu + " is not a valid MTU");
        }
        if (vlan < 0 || vlan > 4094) {
            throw new IllegalArgumentException("invalid VLAN ID " + vlan + " (must be between 0 and 4094)");
        }
        if (vlan > 0 && !vlanTrunk.isEmpty()) {
            throw new IllegalArgumentException("cannot set vlan and vlanTrunk at the same time");
        }
        if (hairpinMode && promiscMode) {
            throw new IllegalArgumentException("cannot set hairpin mode and promiscuous mode at the same time");
        }
        if (disableContainerInterface && ipamType.isPresent()) {
            throw new IllegalArgumentException("cannot use IPAM when disableContainerInterface flag is set");
        }
        if (vlan > 0 && bridge.length() + 1 + Integer.toString(vlan).length() > InterfaceNames.MAX_LENGTH) {
            throw new IllegalArgumentException("bridge name '" + bridge + "' is too long to name its VLAN " + vlan
                    + " gateway interface");
        }
    }

    /** Whether addresses are configured (an IPAM is named). */
    public boolean isLayer3() {
        return ipamType.isPresent();
    }

    /** Whether the bridge needs VLAN filtering. */
    public boolean vlanFiltering() {
        return vlan != 0 || !vlanTrunk.isEmpty();
    }

    /**
     * Reads the bridge keys of {@code conf}.
     *
     * @throws CniException code 7 naming the key, 2 for a feature nodekit does not implement
     */
    public static BridgeConfig from(NetConf conf, CniArgs args) throws CniException {
        Map<String, Object> x = conf.extra();
        if (bool(x, "macspoofchk", false)) {
            throw new CniException(CniError.UNSUPPORTED_FIELD, "macspoofchk: true is not supported by nodekit-bridge",
                    "it needs nftables rules nodekit does not write; use the Go bridge plugin for MAC spoof checks");
        }
        Object backend = x.get("ipMasqBackend");
        if (backend != null && !"iptables".equals(backend)) {
            throw new CniException(CniError.UNSUPPORTED_FIELD, "ipMasqBackend: '" + backend
                    + "' is not supported by nodekit-bridge (only iptables)");
        }
        String mac = null;
        Optional<String> envMac = args.nonEmpty("MAC");
        if (envMac.isPresent()) {
            mac = envMac.get();
        }
        Object argMac = conf.argsCni().get("mac");
        if (argMac instanceof String && !((String) argMac).isEmpty()) {
            mac = (String) argMac;
        }
        if (conf.runtimeConfig().isPresent() && conf.runtimeConfig().get().mac().isPresent()) {
            mac = conf.runtimeConfig().get().mac().get();
        }
        if (mac != null) {
            try {
                mac = MacAddress.normalize(mac);
            } catch (IllegalArgumentException e) {
                throw invalid("mac: " + e.getMessage());
            }
            if (MacAddress.isMulticast(mac)) {
                throw invalid("mac: " + mac + " is a multicast address and cannot name an interface");
            }
        }
        String bridge = string(x, "bridge", DEFAULT_BRIDGE);
        boolean isDefaultGw = bool(x, "isDefaultGateway", false);
        Optional<String> ipamType = Optional.empty();
        if (conf.ipam().isPresent() && conf.ipam().get().type().isPresent() && !conf.ipam().get().type().get().isEmpty()) {
            ipamType = conf.ipam().get().type();
        }
        try {
            return new BridgeConfig(bridge, bool(x, "isGateway", false) || isDefaultGw, isDefaultGw,
                    bool(x, "forceAddress", false), conf.ipMasq().orElse(Boolean.FALSE), integer(x, "mtu", 0),
                    bool(x, "hairpinMode", false), bool(x, "promiscMode", false), integer(x, "vlan", 0),
                    vlanTrunk(x.get("vlanTrunk")), bool(x, "preserveDefaultVlan", true), bool(x, "enabledad", false),
                    bool(x, "disableContainerInterface", false), bool(x, "portIsolation", false),
                    Optional.ofNullable(mac), ipamType);
        } catch (IllegalArgumentException e) {
            throw invalid(e.getMessage());
        }
    }

    private static boolean bool(Map<String, Object> x, String key, boolean dflt) throws CniException {
        Object v = x.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean) {
            return (Boolean) v;
        }
        throw invalid(key + ": expected true or false, got " + v);
    }

    private static int integer(Map<String, Object> x, String key, int dflt) throws CniException {
        Object v = x.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Integer) {
            return (Integer) v;
        }
        if (v instanceof Long && (Long) v >= Integer.MIN_VALUE && (Long) v <= Integer.MAX_VALUE) {
            return (int) (long) (Long) v;
        }
        throw invalid(key + ": expected an integer, got " + v);
    }

    private static String string(Map<String, Object> x, String key, String dflt) throws CniException {
        Object v = x.get(key);
        if (v == null || "".equals(v)) {
            return dflt;
        }
        if (v instanceof String) {
            return (String) v;
        }
        throw invalid(key + ": expected a string, got " + v);
    }

    /** Go's {@code collectVlanTrunk}: {@code [{"id": 5}, {"minID": 10, "maxID": 20}]} to a sorted id list. */
    private static List<Integer> vlanTrunk(Object v) throws CniException {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List)) {
            throw invalid("vlanTrunk: expected a list of {id} or {minID, maxID}");
        }
        TreeSet<Integer> ids = new TreeSet<>();
        for (Object o : (List<?>) v) {
            if (!(o instanceof Map)) {
                throw invalid("vlanTrunk: expected a list of {id} or {minID, maxID}");
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) o;
            boolean hasMin = m.get("minID") != null;
            boolean hasMax = m.get("maxID") != null;
            if (hasMin && hasMax) {
                int min = integer(m, "minID", 0);
                int max = integer(m, "maxID", 0);
                if (min <= 0 || min > 4094) {
                    throw invalid("incorrect trunk minID parameter");
                }
                if (max <= 0 || max > 4094) {
                    throw invalid("incorrect trunk maxID parameter");
                }
                if (max < min) {
                    throw invalid("minID is greater than maxID in trunk parameter");
                }
                for (int i = min; i <= max; i++) {
                    ids.add(i);
                }
            } else if (hasMax) {
                throw invalid("minID and maxID should be configured simultaneously, minID is missing");
            } else if (hasMin) {
                throw invalid("minID and maxID should be configured simultaneously, maxID is missing");
            }
            if (m.get("id") != null) {
                int id = integer(m, "id", 0);
                if (id <= 0 || id > 4094) {
                    throw invalid("incorrect trunk id parameter");
                }
                ids.add(id);
            }
        }
        return new ArrayList<>(ids);
    }

    private static CniException invalid(String msg) {
        return new CniException(CniError.INVALID_NETWORK_CONFIG, msg);
    }
}
