package dev.nodekit.e2e.ceph;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Picks TCP ports on 127.0.0.1 that are free right now, below the kernel's ephemeral range
 * (32768+) so that outgoing connections do not grab them between now and the monitor's bind. The
 * race with other processes remains; the fixture retries the boot with new ports when the monitor
 * cannot bind.
 */
final class Ports {
    private static final int LOW = 20000;
    private static final int HIGH = 32000;

    private Ports() {
    }

    /** Two different free ports. */
    static int[] freePair() throws IOException {
        for (int attempt = 0; attempt < 200; attempt++) {
            int a = ThreadLocalRandom.current().nextInt(LOW, HIGH - 1);
            int b = a + 1;
            if (free(a) && free(b)) {
                return new int[] {a, b};
            }
        }
        throw new IOException("no two free adjacent ports in " + LOW + "-" + HIGH + " on 127.0.0.1");
    }

    static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(false);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
