package dev.nodekit.cni.net;

/**
 * An IPv4 or IPv6 address, parsed and printed exactly as Go's {@code net.ParseIP}/{@code IP.String()}
 * do, because host-local names its allocation files with that text: IPv4 in dotted decimal (leading
 * zeros rejected), IPv6 in RFC 5952 form (lower case, the first longest run of two or more zero
 * groups as {@code ::}). An IPv4-mapped IPv6 address ({@code ::ffff:10.1.2.3}) is canonicalised to
 * the IPv4 address, as host-local's {@code canonicalizeIP} does.
 *
 * <p>Held as two longs, so the arithmetic host-local needs (next address, masks, comparison) is a few
 * instructions and no allocation beyond the result. {@code equals}/{@code hashCode}/{@code toString}
 * are written out: this type sits on every CNI call's path and a record's generated methods would
 * bootstrap invokedynamic on first use.
 */
public final class IpAddress implements Comparable<IpAddress> {
    private final boolean v6;
    /** Upper 64 bits of an IPv6 address; 0 for IPv4. */
    private final long hi;
    /** Lower 64 bits of an IPv6 address; the 32-bit value of an IPv4 address. */
    private final long lo;

    private IpAddress(boolean v6, long hi, long lo) {
        this.v6 = v6;
        this.hi = v6 ? hi : 0;
        this.lo = v6 ? lo : lo & 0xffffffffL;
    }

    /** The IPv4 address with this 32-bit value. */
    public static IpAddress v4(long value) {
        return new IpAddress(false, 0, value);
    }

    /** The IPv6 address with these 128 bits. */
    public static IpAddress v6(long hi, long lo) {
        if (hi == 0 && (lo >>> 32) == 0xffffL) {
            return new IpAddress(false, 0, lo);
        }
        return new IpAddress(true, hi, lo);
    }

    /**
     * Parses an IP literal.
     *
     * @throws IllegalArgumentException naming the text when it is not an IPv4 or IPv6 address
     */
    public static IpAddress parse(String text) {
        IpAddress a = parseOrNull(text);
        if (a == null) {
            throw new IllegalArgumentException("'" + text + "' is not an IP address");
        }
        return a;
    }

    /** Parses an IP literal, or returns null when {@code text} is not one (file names, user input). */
    public static IpAddress parseOrNull(String text) {
        if (text == null || text.isEmpty() || text.length() > 45) {
            return null;
        }
        if (text.indexOf(':') < 0) {
            long v = parseV4(text, 0, text.length());
            return v < 0 ? null : new IpAddress(false, 0, v);
        }
        return parseV6(text);
    }

    /** Dotted decimal between {@code from} and {@code to}, or -1. */
    private static long parseV4(String s, int from, int to) {
        long value = 0;
        int parts = 0;
        int i = from;
        while (parts < 4) {
            int start = i;
            int octet = 0;
            while (i < to && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                octet = octet * 10 + (s.charAt(i) - '0');
                i++;
                if (i - start > 3) {
                    return -1;
                }
            }
            int len = i - start;
            if (len == 0 || octet > 255 || (len > 1 && s.charAt(start) == '0')) {
                return -1;
            }
            value = (value << 8) | octet;
            parts++;
            if (parts < 4) {
                if (i >= to || s.charAt(i) != '.') {
                    return -1;
                }
                i++;
            }
        }
        return i == to ? value : -1;
    }

    private static IpAddress parseV6(String s) {
        int[] groups = new int[8];
        int n = 0;
        int ellipsis = -1;
        int i = 0;
        int len = s.length();
        if (s.startsWith("::")) {
            ellipsis = 0;
            i = 2;
            if (i == len) {
                return new IpAddress(true, 0, 0);
            }
        }
        while (i < len) {
            int start = i;
            int value = 0;
            while (i < len && i - start < 5) {
                int d = Character.digit(s.charAt(i), 16);
                if (d < 0) {
                    break;
                }
                value = value * 16 + d;
                i++;
            }
            int digits = i - start;
            if (digits == 0 || digits > 4) {
                return null;
            }
            if (i < len && s.charAt(i) == '.') {
                // An embedded IPv4 address: must be the last 32 bits.
                if (n > 6 || (ellipsis < 0 && n != 6)) {
                    return null;
                }
                long v4 = parseV4(s, start, len);
                if (v4 < 0) {
                    return null;
                }
                groups[n++] = (int) (v4 >>> 16);
                groups[n++] = (int) (v4 & 0xffff);
                i = len;
                break;
            }
            if (n == 8) {
                return null;
            }
            groups[n++] = value;
            if (i == len) {
                break;
            }
            if (s.charAt(i) != ':') {
                return null;
            }
            i++;
            if (i < len && s.charAt(i) == ':') {
                if (ellipsis >= 0) {
                    return null;
                }
                ellipsis = n;
                i++;
                if (i == len) {
                    break;
                }
            } else if (i == len) {
                return null;
            }
        }
        if (ellipsis >= 0) {
            if (n == 8) {
                return null;
            }
            int shift = 8 - n;
            for (int j = n - 1; j >= ellipsis; j--) {
                groups[j + shift] = groups[j];
            }
            for (int j = ellipsis; j < ellipsis + shift; j++) {
                groups[j] = 0;
            }
        } else if (n != 8) {
            return null;
        }
        long hi = 0;
        long lo = 0;
        for (int j = 0; j < 4; j++) {
            hi = (hi << 16) | groups[j];
            lo = (lo << 16) | groups[j + 4];
        }
        return v6(hi, lo);
    }

    /** 4 or 6. */
    public int family() {
        return v6 ? 6 : 4;
    }

    /** Whether this is an IPv4 address. */
    public boolean isV4() {
        return !v6;
    }

    /** 32 or 128. */
    public int bitLength() {
        return v6 ? 128 : 32;
    }

    /** Whether {@code other} is of the same family. */
    public boolean sameFamily(IpAddress other) {
        return v6 == other.v6;
    }

    /** The next address, wrapping from the highest address to zero (callers stay inside a range). */
    public IpAddress next() {
        if (!v6) {
            return new IpAddress(false, 0, lo + 1);
        }
        long nlo = lo + 1;
        long nhi = nlo == 0 ? hi + 1 : hi;
        return new IpAddress(true, nhi, nlo);
    }

    /** The previous address, wrapping from zero to the highest address. */
    public IpAddress previous() {
        if (!v6) {
            return new IpAddress(false, 0, lo - 1);
        }
        long nhi = lo == 0 ? hi - 1 : hi;
        return new IpAddress(true, nhi, lo - 1);
    }

    /** This address with every bit after the first {@code prefix} cleared: the network address. */
    public IpAddress masked(int prefix) {
        checkPrefix(prefix);
        long[] m = mask(prefix);
        return new IpAddress(v6, hi & m[0], lo & m[1]);
    }

    /** This address with every bit after the first {@code prefix} set: the last address of the network. */
    public IpAddress lastOf(int prefix) {
        checkPrefix(prefix);
        long[] m = mask(prefix);
        return new IpAddress(v6, hi | ~m[0], lo | ~m[1]);
    }

    /** The number of addresses from this one to {@code other} inclusive, saturated at Long.MAX_VALUE. */
    public long countTo(IpAddress other) {
        if (v6 != other.v6 || compareTo(other) > 0) {
            return 0;
        }
        long dhi = other.hi - hi;
        long dlo = other.lo - lo;
        if (Long.compareUnsigned(other.lo, lo) < 0) {
            dhi--;
        }
        if (dhi != 0 || dlo < 0 || dlo == Long.MAX_VALUE) {
            return Long.MAX_VALUE;
        }
        return dlo + 1;
    }

    private void checkPrefix(int prefix) {
        if (prefix < 0 || prefix > bitLength()) {
            throw new IllegalArgumentException("prefix length " + prefix + " is out of range for IPv" + family());
        }
    }

    private long[] mask(int prefix) {
        if (!v6) {
            long m = prefix == 0 ? 0 : (0xffffffffL << (32 - prefix)) & 0xffffffffL;
            return new long[] {0, m | 0xffffffff00000000L};
        }
        long mhi = prefix >= 64 ? -1L : prefix == 0 ? 0 : -1L << (64 - prefix);
        long mlo = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
        return new long[] {mhi, mlo};
    }

    /** The address bytes, 4 or 16, network order. */
    public byte[] bytes() {
        byte[] b = new byte[v6 ? 16 : 4];
        if (!v6) {
            for (int i = 0; i < 4; i++) {
                b[i] = (byte) (lo >>> (24 - 8 * i));
            }
            return b;
        }
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (hi >>> (56 - 8 * i));
            b[8 + i] = (byte) (lo >>> (56 - 8 * i));
        }
        return b;
    }

    /** IPv4 before IPv6, then numerically. */
    @Override
    public int compareTo(IpAddress o) {
        if (v6 != o.v6) {
            return v6 ? 1 : -1;
        }
        int c = Long.compareUnsigned(hi, o.hi);
        return c != 0 ? c : Long.compareUnsigned(lo, o.lo);
    }

    @Override
    public boolean equals(Object o) {
        if (!(o instanceof IpAddress)) {
            return false;
        }
        IpAddress a = (IpAddress) o;
        return a.v6 == v6 && a.hi == hi && a.lo == lo;
    }

    @Override
    public int hashCode() {
        return (int) (hi ^ (hi >>> 32) ^ lo ^ (lo >>> 32)) + (v6 ? 1 : 0);
    }

    /** Go's {@code IP.String()}: the text host-local names its files with. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(v6 ? 39 : 15);
        if (!v6) {
            sb.append((lo >>> 24) & 0xff).append('.').append((lo >>> 16) & 0xff).append('.')
                    .append((lo >>> 8) & 0xff).append('.').append(lo & 0xff);
            return sb.toString();
        }
        int[] g = new int[8];
        for (int i = 0; i < 4; i++) {
            g[i] = (int) ((hi >>> (48 - 16 * i)) & 0xffff);
            g[i + 4] = (int) ((lo >>> (48 - 16 * i)) & 0xffff);
        }
        // The first longest run of at least two zero groups becomes "::" (Go and RFC 5952 agree).
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8;) {
            if (g[i] != 0) {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j;
        }
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (i > 0 && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }
}
