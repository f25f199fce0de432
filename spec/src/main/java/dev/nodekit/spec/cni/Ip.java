package dev.nodekit.spec.cni;

/**
 * IP address and CIDR text checks with Go's {@code net.ParseIP}/{@code net.ParseCIDR} rules, written
 * by hand so that validating a literal never touches {@code InetAddress} (which resolves names).
 */
final class Ip {
    private Ip() {
    }

    /** 4 or 6 for a valid IPv4 or IPv6 literal (an IPv4-mapped IPv6 address counts as 4, like Go's To4), else 0. */
    static int family(String s) {
        if (s == null || s.isEmpty()) {
            return 0;
        }
        if (s.indexOf(':') < 0) {
            return parseV4(s, 0, s.length(), null, 0) ? 4 : 0;
        }
        byte[] b = new byte[16];
        if (!parseV6(s, b)) {
            return 0;
        }
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return 6;
            }
        }
        return b[10] == (byte) 0xff && b[11] == (byte) 0xff ? 4 : 6;
    }

    /** 4 or 6 for a valid {@code ADDRESS/PREFIX} (host bits allowed, as in CNI results), else 0. */
    static int cidrFamily(String s) {
        if (s == null) {
            return 0;
        }
        int slash = s.indexOf('/');
        if (slash <= 0 || slash == s.length() - 1) {
            return 0;
        }
        String addr = s.substring(0, slash);
        boolean v6Text = addr.indexOf(':') >= 0;
        int fam = family(addr);
        if (fam == 0) {
            return 0;
        }
        int prefix = decimal(s, slash + 1, s.length(), 128);
        // Go measures the prefix against the textual form: 32 bits for dotted quads, 128 for IPv6 text.
        int max = v6Text ? 128 : 32;
        if (prefix < 0 || prefix > max) {
            return 0;
        }
        return fam;
    }

    /** Non-negative decimal without sign or leading zeros, at most {@code max}; -1 if not. */
    private static int decimal(String s, int from, int to, int max) {
        if (from >= to || to - from > 3) {
            return -1;
        }
        if (s.charAt(from) == '0' && to - from > 1) {
            return -1;
        }
        int v = 0;
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            v = v * 10 + (c - '0');
        }
        return v <= max ? v : -1;
    }

    private static boolean parseV4(String s, int from, int to, byte[] out, int off) {
        int part = 0;
        int start = from;
        for (int i = from; i <= to; i++) {
            if (i == to || s.charAt(i) == '.') {
                int v = decimal(s, start, i, 255);
                if (v < 0 || part > 3) {
                    return false;
                }
                if (out != null) {
                    out[off + part] = (byte) v;
                }
                part++;
                start = i + 1;
            }
        }
        return part == 4;
    }

    private static boolean parseV6(String s, byte[] out) {
        int n = s.length();
        int pos = 0;
        int filled = 0;
        int gap = -1;
        if (s.startsWith("::")) {
            gap = 0;
            pos = 2;
            if (pos == n) {
                return true;
            }
        } else if (s.charAt(0) == ':') {
            return false;
        }
        while (pos < n) {
            int end = pos;
            while (end < n && s.charAt(end) != ':') {
                end++;
            }
            if (end == pos) {
                return false;
            }
            if (end == n && s.indexOf('.', pos) >= 0) {
                // Trailing dotted quad fills the last 32 bits.
                if (filled > 12 || !parseV4(s, pos, end, out, filled)) {
                    return false;
                }
                filled += 4;
                pos = end;
                break;
            }
            if (end - pos > 4 || filled > 14) {
                return false;
            }
            int v = 0;
            for (int i = pos; i < end; i++) {
                int d = Character.digit(s.charAt(i), 16);
                if (d < 0) {
                    return false;
                }
                v = (v << 4) | d;
            }
            out[filled++] = (byte) (v >> 8);
            out[filled++] = (byte) v;
            if (end == n) {
                pos = end;
                break;
            }
            // end points at ':'
            if (end + 1 < n && s.charAt(end + 1) == ':') {
                if (gap >= 0) {
                    return false;
                }
                gap = filled;
                pos = end + 2;
            } else if (end + 1 == n) {
                return false; // trailing single ':'
            } else {
                pos = end + 1;
            }
        }
        if (gap < 0) {
            return filled == 16;
        }
        if (filled == 16) {
            return false; // "::" must stand for at least one group
        }
        int tail = filled - gap;
        System.arraycopy(out, gap, out, 16 - tail, tail);
        for (int i = gap; i < 16 - tail; i++) {
            out[i] = 0;
        }
        return true;
    }

    /**
     * Whether {@code s} is a hardware address as Go's {@code net.ParseMAC} reads it: 6, 8 or 20 octets as
     * two hex digits separated by ':' or '-', or groups of four hex digits separated by '.'.
     */
    static boolean isMac(String s) {
        if (s == null) {
            return false;
        }
        int n = s.length();
        if (n >= 14 && s.charAt(4) == '.') {
            if ((n + 1) % 5 != 0) {
                return false;
            }
            int groups = (n + 1) / 5;
            if (groups != 3 && groups != 4 && groups != 10) {
                return false;
            }
            for (int i = 0; i < n; i++) {
                boolean dot = i % 5 == 4;
                char c = s.charAt(i);
                if (dot ? c != '.' : Character.digit(c, 16) < 0) {
                    return false;
                }
            }
            return true;
        }
        if (n < 17 || (n + 1) % 3 != 0) {
            return false;
        }
        int octets = (n + 1) / 3;
        if (octets != 6 && octets != 8 && octets != 20) {
            return false;
        }
        char sep = s.charAt(2);
        if (sep != ':' && sep != '-') {
            return false;
        }
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (i % 3 == 2 ? c != sep : Character.digit(c, 16) < 0) {
                return false;
            }
        }
        return true;
    }
}
