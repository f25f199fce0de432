package dev.nodekit.cni.net;

/**
 * An address with a prefix length, {@code 10.1.0.5/24}: an interface address (host bits kept) or a
 * subnet (host bits clear; see {@link #isNetworkAddress()}). Printed as {@code address/prefix}, the
 * form CNI results and iproute2 use.
 */
public final class IpNetwork {
    private final IpAddress address;
    private final int prefix;

    private IpNetwork(IpAddress address, int prefix) {
        this.address = address;
        this.prefix = prefix;
    }

    /**
     * An address and prefix length.
     *
     * @throws IllegalArgumentException when the prefix is out of range for the family
     */
    public static IpNetwork of(IpAddress address, int prefix) {
        if (address == null) {
            throw new IllegalArgumentException("address is null");
        }
        if (prefix < 0 || prefix > address.bitLength()) {
            throw new IllegalArgumentException("prefix length " + prefix + " is out of range for IPv"
                    + address.family());
        }
        return new IpNetwork(address, prefix);
    }

    /**
     * Parses {@code ADDRESS/PREFIX}.
     *
     * @throws IllegalArgumentException naming the text when it is not a CIDR
     */
    public static IpNetwork parse(String text) {
        IpNetwork n = parseOrNull(text);
        if (n == null) {
            throw new IllegalArgumentException("'" + text + "' is not a CIDR (expected ADDRESS/PREFIX)");
        }
        return n;
    }

    /** Parses {@code ADDRESS/PREFIX}, or returns null. */
    public static IpNetwork parseOrNull(String text) {
        if (text == null) {
            return null;
        }
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1 || text.length() - slash > 4) {
            return null;
        }
        IpAddress a = IpAddress.parseOrNull(text.substring(0, slash));
        if (a == null) {
            return null;
        }
        int p = 0;
        for (int i = slash + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9' || (i == slash + 1 && c == '0' && i < text.length() - 1)) {
                return null;
            }
            p = p * 10 + (c - '0');
        }
        boolean mappedV4 = a.isV4() && text.indexOf(':') >= 0;
        if (mappedV4) {
            // ::ffff:10.0.0.0/104 is the IPv4 network 10.0.0.0/8.
            p -= 96;
        }
        if (p < 0 || p > a.bitLength()) {
            return null;
        }
        return new IpNetwork(a, p);
    }

    /** The address as given (host bits kept). */
    public IpAddress address() {
        return address;
    }

    /** The prefix length. */
    public int prefix() {
        return prefix;
    }

    /** 4 or 6. */
    public int family() {
        return address.family();
    }

    /** The network address (host bits cleared). */
    public IpAddress networkAddress() {
        return address.masked(prefix);
    }

    /** The last address of the network (host bits set). */
    public IpAddress lastAddress() {
        return address.lastOf(prefix);
    }

    /** The network this address belongs to ({@code 10.1.0.5/24} becomes {@code 10.1.0.0/24}). */
    public IpNetwork network() {
        return new IpNetwork(networkAddress(), prefix);
    }

    /** Whether the host bits are clear. */
    public boolean isNetworkAddress() {
        return address.equals(networkAddress());
    }

    /** Whether {@code ip} is inside this network. */
    public boolean contains(IpAddress ip) {
        return ip.sameFamily(address) && ip.masked(prefix).equals(networkAddress());
    }

    /** Whether the two networks share an address. */
    public boolean overlaps(IpNetwork other) {
        return contains(other.networkAddress()) || other.contains(networkAddress());
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof IpNetwork)) {
            return false;
        }
        IpNetwork n = (IpNetwork) o;
        return n.prefix == prefix && n.address.equals(address);
    }

    @Override
    public int hashCode() {
        return address.hashCode() * 31 + prefix;
    }

    /** {@code address/prefix}. */
    @Override
    public String toString() {
        return new StringBuilder(48).append(address.toString()).append('/').append(prefix).toString();
    }
}
