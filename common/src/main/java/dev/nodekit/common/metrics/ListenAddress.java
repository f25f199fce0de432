package dev.nodekit.common.metrics;

import java.util.Optional;

/**
 * A TCP listen address written {@code host:port}, as in {@code --metrics-address=127.0.0.1:9808}.
 * An empty host ({@code :9808}) means every interface; IPv6 hosts go in brackets
 * ({@code [::1]:9808}); port 0 asks the kernel for a free port.
 *
 * @param host the host name or IP literal (without brackets), empty for every interface
 * @param port 0 to 65535
 */
public record ListenAddress(Optional<String> host, int port) {

    public ListenAddress {
        if (host == null) {
            throw new IllegalArgumentException("host must not be null; use Optional.empty() for every interface");
        }
        host.ifPresent(h -> {
            if (!validHost(h)) {
                throw new IllegalArgumentException("host '" + h + "' is not a host name or IP address");
            }
        });
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is outside 0-65535");
        }
    }

    /** Parses {@code host:port}, {@code :port} or {@code [ipv6]:port}; the message says what is wrong. */
    public static ListenAddress parse(String address) {
        if (address == null || address.isBlank()) {
            throw new IllegalArgumentException("listen address is empty; expected host:port such as 127.0.0.1:9808 or :9808");
        }
        String a = address.strip();
        int colon = a.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("listen address '" + address
                    + "' has no port; expected host:port such as 127.0.0.1:9808 or :9808");
        }
        String host = a.substring(0, colon);
        String portText = a.substring(colon + 1);
        if (host.startsWith("[")) {
            if (!host.endsWith("]") || host.length() < 3) {
                throw new IllegalArgumentException("listen address '" + address + "' has an unclosed IPv6 bracket");
            }
            host = host.substring(1, host.length() - 1);
        } else if (host.indexOf(':') >= 0) {
            throw new IllegalArgumentException("listen address '" + address
                    + "': write IPv6 addresses in brackets, e.g. [::1]:9808");
        }
        if (portText.isEmpty() || portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("listen address '" + address + "': port '" + portText
                    + "' is not a number from 0 to 65535");
        }
        int port = Integer.parseInt(portText);
        if (port > 65535) {
            throw new IllegalArgumentException("listen address '" + address + "': port " + port
                    + " is outside 0-65535");
        }
        if (!host.isEmpty() && !validHost(host)) {
            throw new IllegalArgumentException("listen address '" + address + "': '" + host
                    + "' is not a host name or IP address");
        }
        return new ListenAddress(host.isEmpty() ? Optional.empty() : Optional.of(host), port);
    }

    /** Letters, digits, '.', '-' (names, IPv4) or hex digits, ':' and '.' (IPv6); at most 253 chars. */
    private static boolean validHost(String h) {
        if (h.isEmpty() || h.length() > 253) {
            return false;
        }
        boolean v6 = h.indexOf(':') >= 0;
        for (int i = 0; i < h.length(); i++) {
            char c = h.charAt(i);
            boolean ok = v6
                    ? (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'
                    : (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return !h.startsWith("-") && !h.startsWith(".");
    }

    @Override
    public String toString() {
        String h = host.map(x -> x.indexOf(':') >= 0 ? "[" + x + "]" : x).orElse("");
        return h + ":" + port;
    }
}
