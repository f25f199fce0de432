package dev.nodekit.csi.rbd.ceph;

import java.time.Duration;
import java.util.Objects;

/**
 * How to reach a cluster: monitors, credentials and the timeouts that bound every call. No Ceph
 * configuration file is read; these values are all librados gets (plus quiet logging).
 *
 * <p>Monitors use Ceph's {@code mon_host} syntax. Prefer explicit protocol prefixes,
 * {@code [v2:10.0.0.1:3300,v1:10.0.0.1:6789]} or {@code v2:10.0.0.1:3300}: with a bare
 * {@code host:port} librados tries both protocols on that port, and then rejected credentials
 * are reported only when the connect timeout expires (as ETIMEDOUT) instead of at once (EACCES).
 *
 * @param monitors       the monitor addresses, comma separated
 * @param credentials    the user and key to authenticate with
 * @param connectTimeout bound on connecting and authenticating ({@code client_mount_timeout})
 * @param osdOpTimeout   bound on each OSD operation ({@code rados_osd_op_timeout}); librbd calls
 *                       issue several, each bounded
 * @param monOpTimeout   bound on each monitor command ({@code rados_mon_op_timeout})
 */
public record RadosConfig(String monitors, CephCredentials credentials, Duration connectTimeout,
        Duration osdOpTimeout, Duration monOpTimeout) {
    /** Default bound on connecting: long enough for a monitor election, short for a CSI deadline. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** Default bound on one OSD operation or monitor command. */
    public static final Duration DEFAULT_OP_TIMEOUT = Duration.ofSeconds(30);

    private static final Duration MAX_TIMEOUT = Duration.ofHours(1);

    /** Validates every field. */
    public RadosConfig {
        Objects.requireNonNull(monitors, "monitors");
        Objects.requireNonNull(credentials, "credentials");
        monitors = monitors.strip();
        if (monitors.isEmpty() || monitors.length() > 4096 || !monitors.chars().allMatch(c -> c > ' ' && c < 127)) {
            throw new IllegalArgumentException("monitors '" + monitors
                    + "' must be a non-empty mon_host list of printable ASCII without spaces,"
                    + " e.g. [v2:10.0.0.1:3300,v1:10.0.0.1:6789]");
        }
        checkTimeout("connectTimeout", connectTimeout);
        checkTimeout("osdOpTimeout", osdOpTimeout);
        checkTimeout("monOpTimeout", monOpTimeout);
    }

    /** {@code monitors} and {@code credentials} with the default timeouts (10 s connect, 30 s per operation). */
    public static RadosConfig of(String monitors, CephCredentials credentials) {
        return new RadosConfig(monitors, credentials, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OP_TIMEOUT, DEFAULT_OP_TIMEOUT);
    }

    /** A copy with {@code connect} as connect timeout and {@code operation} for OSD and monitor operations. */
    public RadosConfig withTimeouts(Duration connect, Duration operation) {
        return new RadosConfig(monitors, credentials, connect, operation, operation);
    }

    /** {@code d} in whole seconds, rounded up: Ceph's timeout options take seconds. */
    static long seconds(Duration d) {
        long s = d.getSeconds();
        return d.getNano() > 0 ? s + 1 : s;
    }

    private static void checkTimeout(String name, Duration d) {
        Objects.requireNonNull(d, name);
        if (d.compareTo(Duration.ofSeconds(1)) < 0 || d.compareTo(MAX_TIMEOUT) > 0) {
            throw new IllegalArgumentException(name + " " + d + " must be between 1s and 1h"
                    + " (Ceph takes whole seconds; 0 would mean no timeout)");
        }
    }
}
