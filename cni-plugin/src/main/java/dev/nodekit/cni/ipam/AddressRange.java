package dev.nodekit.cni.ipam;

import dev.nodekit.cni.net.IpAddress;
import dev.nodekit.cni.net.IpNetwork;
import dev.nodekit.spec.cni.IpRange;

/**
 * One host-local range after the Go plugin's {@code Range.Canonicalize}: the subnet (host bits clear),
 * the first and last allocatable address (inclusive) and the gateway, which is never handed out.
 * Defaults: gateway = network + 1, start = network + 1 (the gateway is skipped when iterating), end =
 * the last address (IPv6) or the one before the broadcast address (IPv4).
 */
public final class AddressRange {
    private final IpNetwork subnet;
    private final IpAddress start;
    private final IpAddress end;
    private final IpAddress gateway;

    private AddressRange(IpNetwork subnet, IpAddress start, IpAddress end, IpAddress gateway) {
        this.subnet = subnet;
        this.start = start;
        this.end = end;
        this.gateway = gateway;
    }

    /**
     * Validates and completes a configured range.
     *
     * @throws IllegalArgumentException with host-local's message when the range is unusable
     */
    public static AddressRange of(IpRange spec) {
        IpNetwork subnet = IpNetwork.parse(spec.subnet());
        if (subnet.prefix() > subnet.address().bitLength() - 2) {
            throw new IllegalArgumentException("Network " + subnet + " too small to allocate from");
        }
        if (!subnet.isNetworkAddress()) {
            throw new IllegalArgumentException("Network has host bits set. For a subnet mask of length "
                    + subnet.prefix() + " the network address is " + subnet.networkAddress());
        }
        IpAddress network = subnet.networkAddress();
        IpAddress gateway = network.next();
        if (spec.gateway().isPresent()) {
            gateway = IpAddress.parse(spec.gateway().get());
            if (!subnet.contains(gateway)) {
                throw new IllegalArgumentException("gateway " + gateway + " not in network " + subnet);
            }
        }
        IpAddress start = network.next();
        if (spec.rangeStart().isPresent()) {
            start = IpAddress.parse(spec.rangeStart().get());
            checkIn(subnet, start, null, null);
        }
        IpAddress end;
        if (spec.rangeEnd().isPresent()) {
            end = IpAddress.parse(spec.rangeEnd().get());
            checkIn(subnet, end, start, null);
        } else {
            end = subnet.lastAddress();
            if (end.isV4()) {
                end = end.previous();
            }
        }
        return new AddressRange(subnet, start, end, gateway);
    }

    private static void checkIn(IpNetwork subnet, IpAddress ip, IpAddress start, IpAddress end) {
        if (!ip.sameFamily(subnet.address())) {
            throw new IllegalArgumentException("IP " + ip + " is not the same protocol as subnet " + subnet);
        }
        if (!subnet.contains(ip)) {
            throw new IllegalArgumentException(ip + " not in network " + subnet);
        }
        if (start != null && ip.compareTo(start) < 0) {
            throw new IllegalArgumentException(ip + " is in network " + subnet + " but before start " + start);
        }
        if (end != null && ip.compareTo(end) > 0) {
            throw new IllegalArgumentException(ip + " is in network " + subnet + " but after end " + end);
        }
    }

    /** The subnet (network address and prefix length). */
    public IpNetwork subnet() {
        return subnet;
    }

    /** The first allocatable address, inclusive. */
    public IpAddress start() {
        return start;
    }

    /** The last allocatable address, inclusive. */
    public IpAddress end() {
        return end;
    }

    /** The gateway, never allocated. */
    public IpAddress gateway() {
        return gateway;
    }

    /** 4 or 6. */
    public int family() {
        return subnet.family();
    }

    /** Whether {@code ip} lies between {@link #start()} and {@link #end()} (the gateway included). */
    public boolean contains(IpAddress ip) {
        return ip.sameFamily(start) && subnet.contains(ip) && ip.compareTo(start) >= 0 && ip.compareTo(end) <= 0;
    }

    /** Whether the two ranges share an address (Go's {@code Range.Overlaps}). */
    public boolean overlaps(AddressRange o) {
        if (!start.sameFamily(o.start)) {
            return false;
        }
        return contains(o.start) || contains(o.end) || o.contains(start) || o.contains(end);
    }

    /** How many addresses can be handed out: the range minus the gateway when it lies inside. */
    public long capacity() {
        long n = start.countTo(end);
        if (n != Long.MAX_VALUE && contains(gateway)) {
            n--;
        }
        return n;
    }

    /** The address {@code ip} configured with this range's prefix length ({@code 10.1.0.5/24}). */
    public IpNetwork withPrefix(IpAddress ip) {
        return IpNetwork.of(ip, subnet.prefix());
    }

    /** {@code start-end}, as host-local prints a range. */
    @Override
    public String toString() {
        return start + "-" + end;
    }
}
