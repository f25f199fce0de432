package dev.nodekit.cni.net;

import java.util.Map;
import java.util.Optional;

/**
 * One route as {@code ip -j route show} reports it.
 *
 * @param destination the destination ({@code default} is {@code 0.0.0.0/0} or {@code ::/0})
 * @param gateway     the next hop, when there is one
 * @param device      the output interface
 */
public record RouteState(IpNetwork destination, Optional<IpAddress> gateway, Optional<String> device) {

    /** Reads one element of {@code ip -j route show}; null when its destination is not an address. */
    static RouteState fromJson(Map<String, Object> m, int family) {
        String dst = IpJson.string(m, "dst");
        IpNetwork d;
        if (dst == null || "default".equals(dst)) {
            d = family == 6 ? IpNetwork.parse("::/0") : IpNetwork.parse("0.0.0.0/0");
        } else if (dst.indexOf('/') < 0) {
            IpAddress a = IpAddress.parseOrNull(dst);
            if (a == null) {
                return null;
            }
            d = IpNetwork.of(a, a.bitLength());
        } else {
            d = IpNetwork.parseOrNull(dst);
            if (d == null) {
                return null;
            }
        }
        return new RouteState(d, Optional.ofNullable(IpAddress.parseOrNull(IpJson.string(m, "gateway"))),
                Optional.ofNullable(IpJson.string(m, "dev")));
    }
}
