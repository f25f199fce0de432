package dev.nodekit.conformance.cni;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * Picks a private IPv4 /24 for a run that overlaps nothing routed or assigned on the host. Random
 * so that runs on the same machine (other helpers, CI) do not collide; 10.88.0.0/16 (the usual
 * runtime default) is never chosen. Tries 10.100-254.x.0/24 first, then 172.16-31.x.0/24, then
 * 192.168.x.0/24.
 */
final class Subnets {
    private static final int TRIES_PER_POOL = 200;

    private Subnets() {
    }

    static IpCidr pickFree(List<IpCidr> used, RandomGenerator random) throws IOException {
        for (int pool = 0; pool < 3; pool++) {
            for (int i = 0; i < TRIES_PER_POOL; i++) {
                IpCidr c = switch (pool) {
                    case 0 -> v4(10, 100 + random.nextInt(155), random.nextInt(256));
                    case 1 -> v4(172, 16 + random.nextInt(16), random.nextInt(256));
                    default -> v4(192, 168, random.nextInt(256));
                };
                if (isAllowed(c) && used.stream().noneMatch(c::overlaps)) {
                    return c;
                }
            }
        }
        throw new IOException("no free private /24 found: the host routes or uses all tried subnets");
    }

    /** Never the common runtime default 10.88.0.0/16. */
    static boolean isAllowed(IpCidr c) {
        return !IpCidr.parse("10.88.0.0/16").overlaps(c);
    }

    private static IpCidr v4(int a, int b, int c) {
        try {
            return new IpCidr(InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, 0}), 24);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }
}
