package dev.nodekit.cni.daemon;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;

/**
 * How {@link CniDaemon} serves, validated once.
 *
 * @param socket           the unix socket (0600, in a 0700 directory the daemon creates if missing;
 *                         at most 107 bytes, the kernel's limit)
 * @param maxConcurrent    plugin calls running at once; more wait (bounded by {@code admissionWait})
 * @param maxConnections   connections served at once (waiting ones included); beyond it a client
 *                         is refused "busy" and answers CNI code 11
 * @param admissionWait    how long a call may wait for a free slot and for an earlier call of the same
 *                         container and interface (then CNI code 11)
 * @param ioTimeout        bound on reading a request, on the client's commit and on writing the answer
 * @param shutdownGrace    how long a stopping daemon lets calls in flight finish
 * @param ownSocketDir     the socket's directory is the daemon's own (e.g. a hostPath kubelet created
 *                         0755): make it 0700 instead of refusing it. Never set it for a shared
 *                         directory such as /run.
 */
public record DaemonConfig(Path socket, int maxConcurrent, int maxConnections, Duration admissionWait,
        Duration ioTimeout, Duration shutdownGrace, boolean ownSocketDir) {

    /** The socket the installer's clients are pointed at by default. */
    public static final Path DEFAULT_SOCKET = Path.of("/run/nodekit/cni.sock");
    /** The kernel's limit on a socket path (sun_path minus the terminating NUL). */
    public static final int MAX_SOCKET_PATH = 107;

    public DaemonConfig {
        if (socket == null || !socket.isAbsolute()) {
            throw new IllegalArgumentException("--socket must be an absolute path, got " + socket);
        }
        socket = socket.normalize();
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_PATH - 24) {
            // The daemon binds a temporary name next to it first.
            throw new IllegalArgumentException("--socket " + socket + " is too long for a unix socket (at most "
                    + (MAX_SOCKET_PATH - 24) + " bytes)");
        }
        if (socket.getParent() == null || socket.getParent().getParent() == null) {
            throw new IllegalArgumentException("--socket " + socket + " needs a directory of its own, e.g. /run/nodekit");
        }
        if (maxConcurrent < 1 || maxConcurrent > 1024) {
            throw new IllegalArgumentException("--max-concurrent must be 1..1024, got " + maxConcurrent);
        }
        if (maxConnections < maxConcurrent || maxConnections > 65536) {
            throw new IllegalArgumentException("--max-connections must be at least --max-concurrent and at most 65536, got "
                    + maxConnections);
        }
        positive(admissionWait, "admission wait");
        positive(ioTimeout, "I/O timeout");
        if (shutdownGrace == null || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("shutdown grace must not be negative");
        }
    }

    private static void positive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
    }

    /**
     * The defaults: 16 calls at once (each mostly waits on {@code ip}/{@code iptables} children),
     * 512 connections, 60 s admission (the IPAM lock's own bound), 10 s I/O, 30 s shutdown grace.
     */
    public static DaemonConfig defaults(Path socket) {
        return new DaemonConfig(socket, 16, 512, Duration.ofSeconds(60), Duration.ofSeconds(10), Duration.ofSeconds(30),
                false);
    }

    public DaemonConfig withMaxConcurrent(int n) {
        return new DaemonConfig(socket, n, Math.max(n, maxConnections), admissionWait, ioTimeout, shutdownGrace, ownSocketDir);
    }

    public DaemonConfig withMaxConnections(int n) {
        return new DaemonConfig(socket, maxConcurrent, n, admissionWait, ioTimeout, shutdownGrace, ownSocketDir);
    }

    public DaemonConfig withAdmissionWait(Duration d) {
        return new DaemonConfig(socket, maxConcurrent, maxConnections, d, ioTimeout, shutdownGrace, ownSocketDir);
    }

    public DaemonConfig withIoTimeout(Duration d) {
        return new DaemonConfig(socket, maxConcurrent, maxConnections, admissionWait, d, shutdownGrace, ownSocketDir);
    }

    public DaemonConfig withOwnSocketDir(boolean own) {
        return new DaemonConfig(socket, maxConcurrent, maxConnections, admissionWait, ioTimeout, shutdownGrace, own);
    }

    public DaemonConfig withShutdownGrace(Duration d) {
        return new DaemonConfig(socket, maxConcurrent, maxConnections, admissionWait, ioTimeout, d, ownSocketDir);
    }
}
