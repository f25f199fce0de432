package dev.nodekit.conformance.cni;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * An IP address with a prefix length ({@code 10.22.0.5/24}, {@code fd00::5/64}), as CNI results
 * carry them. Parsing accepts literals only and never resolves a name: a plugin that answers
 * {@code "address": "gateway.local/24"} must fail a check, not make the suite send a DNS query.
 *
 * @param address the address as written (host bits kept)
 * @param prefixLength 0..32 for IPv4, 0..128 for IPv6
 */
public record IpCidr(InetAddress address, int prefixLength) {
    private static final Pattern V4 = Pattern.compile(
            "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    private static final Pattern V6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");

    public IpCidr {
        Objects.requireNonNull(address, "address");
        int bits = address.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > bits) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " out of range 0.." + bits);
        }
    }

    /** Parses {@code ADDRESS/PREFIX}; throws {@link IllegalArgumentException} saying what is wrong. */
    public static IpCidr parse(String text) {
        Objects.requireNonNull(text, "text");
        int slash = text.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("'" + text + "' is not in CIDR notation (no /prefix)");
        }
        InetAddress a = parseAddress(text.substring(0, slash));
        String p = text.substring(slash + 1);
        if (!p.matches("[0-9]{1,3}")) {
            throw new IllegalArgumentException("'" + text + "' has an invalid prefix length '" + p + "'");
        }
        return new IpCidr(a, Integer.parseInt(p));
    }

    /**
     * Parses an IPv4 or IPv6 literal. Anything else (a host name, a zone id, brackets) is rejected
     * before {@link InetAddress} sees it, so no name is ever resolved.
     */
    public static InetAddress parseAddress(String text) {
        Objects.requireNonNull(text, "text");
        boolean v4 = V4.matcher(text).matches();
        boolean v6 = !v4 && text.indexOf(':') >= 0 && V6_CHARS.matcher(text).matches();
        if (!v4 && !v6) {
            throw new IllegalArgumentException("'" + text + "' is not an IPv4 or IPv6 address literal");
        }
        try {
            // A dotted quad, or a string with ':' made only of hex digits, ':' and '.', is parsed
            // numerically by InetAddress; it never reaches the resolver.
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("'" + text + "' is not a valid IP address literal", e);
        }
    }

    /** 4 or 6. */
    public int family() {
        return address instanceof Inet4Address ? 4 : 6;
    }

    /** The network address (host bits cleared) with the same prefix. */
    public IpCidr network() {
        byte[] b = address.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.max(0, Math.min(8, prefixLength - i * 8));
            b[i] &= (byte) (0xff << (8 - keep));
        }
        try {
            return new IpCidr(InetAddress.getByAddress(b), prefixLength);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** True when {@code other} is in this prefix (same family, same network bits). */
    public boolean contains(InetAddress other) {
        if (other.getAddress().length != address.getAddress().length) {
            return false;
        }
        return new IpCidr(other, prefixLength).network().address.equals(network().address);
    }

    /** True when the two prefixes share at least one address. */
    public boolean overlaps(IpCidr other) {
        if (family() != other.family()) {
            return false;
        }
        IpCidr wider = prefixLength <= other.prefixLength ? this : other;
        IpCidr narrower = wider == this ? other : this;
        return wider.contains(narrower.address);
    }

    /** The address as the Go plugins write it: dotted quad, or RFC 5952 for IPv6 ({@code fd00::2}). */
    public static String canonical(InetAddress a) {
        byte[] b = a.getAddress();
        if (b.length == 4) {
            return a.getHostAddress();
        }
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 0;
        for (int i = 0; i < 8; ) {
            if (groups[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0) {
                j++;
            }
            if (j - i > bestLen && j - i >= 2) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(groups[i]));
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        return canonical(address) + "/" + prefixLength;
    }
}
