package dev.nodekit.cni.net;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * One interface as {@code ip -j -d addr show} reports it.
 *
 * @param index      the interface index in its namespace
 * @param name       the interface name
 * @param peerIndex  for a veth, the peer's index in the peer's namespace ({@code link_index})
 * @param kind       the link kind ({@code veth}, {@code bridge}...), when {@code -d} was given
 * @param master     the bridge (or bond) this interface is a port of
 * @param mac        the hardware address, absent for links without one
 * @param mtu        the MTU
 * @param up         whether the administrative UP flag is set
 * @param operState  the operational state ({@code UP}, {@code DOWN}, {@code UNKNOWN}, {@code LOWERLAYERDOWN}...)
 * @param promiscuous whether the interface is in promiscuous mode
 * @param addresses  the addresses on the interface, in kernel order
 */
public record LinkState(int index, String name, OptionalInt peerIndex, Optional<String> kind, Optional<String> master,
        Optional<String> mac, int mtu, boolean up, String operState, boolean promiscuous,
        List<AddressState> addresses) {

    public LinkState {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("name: required");
        }
        addresses = List.copyOf(addresses);
    }

    /** Whether {@code address} (with its prefix length) is configured on the interface. */
    public boolean has(IpNetwork address) {
        for (AddressState a : addresses) {
            if (a.address().equals(address)) {
                return true;
            }
        }
        return false;
    }

    /** The addresses of family {@code family} (4 or 6) in global scope. */
    public List<IpNetwork> globalAddresses(int family) {
        List<IpNetwork> out = new ArrayList<>();
        for (AddressState a : addresses) {
            if (a.address().family() == family && "global".equals(a.scope())) {
                out.add(a.address());
            }
        }
        return out;
    }

    static LinkState fromJson(Map<String, Object> m) {
        List<AddressState> addrs = new ArrayList<>();
        for (Object o : IpJson.list(m.get("addr_info"))) {
            Map<String, Object> a = IpJson.object(o);
            String local = IpJson.string(a, "local");
            IpAddress ip = IpAddress.parseOrNull(local);
            if (ip == null) {
                continue;
            }
            int prefix = (int) IpJson.number(a, "prefixlen", ip.bitLength());
            String scope = IpJson.string(a, "scope");
            addrs.add(new AddressState(IpNetwork.of(ip, prefix), scope == null ? "global" : scope,
                    IpJson.flag(a, "tentative"), IpJson.flag(a, "dadfailed")));
        }
        boolean up = false;
        for (Object f : IpJson.list(m.get("flags"))) {
            if ("UP".equals(f)) {
                up = true;
            }
        }
        long peer = IpJson.number(m, "link_index", -1);
        String kind = IpJson.string(IpJson.object(m.get("linkinfo")), "info_kind");
        String mac = IpJson.string(m, "address");
        String oper = IpJson.string(m, "operstate");
        return new LinkState((int) IpJson.number(m, "ifindex", 0), IpJson.string(m, "ifname"),
                peer < 0 ? OptionalInt.empty() : OptionalInt.of((int) peer), Optional.ofNullable(kind),
                Optional.ofNullable(IpJson.string(m, "master")), Optional.ofNullable(mac),
                (int) IpJson.number(m, "mtu", 0), up, oper == null ? "UNKNOWN" : oper,
                IpJson.number(m, "promiscuity", 0) > 0, addrs);
    }

    /**
     * One address of an interface.
     *
     * @param address   the address with its prefix length
     * @param scope     {@code global}, {@code link} or {@code host}
     * @param tentative whether IPv6 duplicate address detection is still running
     * @param dadFailed whether duplicate address detection found a conflict
     */
    public record AddressState(IpNetwork address, String scope, boolean tentative, boolean dadFailed) {
    }
}
