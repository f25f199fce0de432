package dev.nodekit.e2e.containerd;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Host-wide things containerd 1.6 and the bridge plugin change outside an instance's dir: the shim
 * socket dir /run/containerd/s, libcni's cache /var/lib/cni/results and net.ipv4.ip_forward (set to 1
 * by the bridge plugin's isGateway). Recorded when the first instance of the JVM starts, restored when
 * the last one closes (reference-counted: two instances may overlap); directories are removed only if
 * they did not exist before and are empty.
 */
final class HostState {
    private static final Logger LOG = LoggerFactory.getLogger(HostState.class);
    static final Path IP_FORWARD = Path.of("/proc/sys/net/ipv4/ip_forward");
    /** Where containerd 1.6 puts shim sockets, whatever its config says. */
    static final Path SHIM_SOCKETS = Path.of("/run/containerd/s");
    /** libcni's result cache (containerd 1.6 uses the default cache dir). */
    static final Path CNI_RESULTS = Path.of("/var/lib/cni/results");
    /** Deepest first: removal order. */
    static final List<Path> DIRS = List.of(Path.of("/run/containerd/s"), Path.of("/run/containerd"),
            Path.of("/var/lib/cni/results"), Path.of("/var/lib/cni"));

    private static int users;
    private static String ipForward;
    private static final List<Path> ABSENT_BEFORE = new ArrayList<>();

    private HostState() {
    }

    static synchronized void acquire() throws IOException {
        if (users++ == 0) {
            ipForward = Files.readString(IP_FORWARD).strip();
            ABSENT_BEFORE.clear();
            for (Path d : DIRS) {
                if (!Files.exists(d)) {
                    ABSENT_BEFORE.add(d);
                }
            }
        }
    }

    static synchronized void release(List<String> problems) {
        if (users == 0 || --users > 0) {
            return;
        }
        try {
            String now = Files.readString(IP_FORWARD).strip();
            if (!now.equals(ipForward)) {
                Files.writeString(IP_FORWARD, ipForward + "\n");
                LOG.atInfo().addKeyValue("value", ipForward).log("restored net.ipv4.ip_forward");
            }
        } catch (IOException e) {
            problems.add("cannot restore net.ipv4.ip_forward=" + ipForward + ": " + e.getMessage());
        }
        for (Path d : DIRS) {
            if (ABSENT_BEFORE.contains(d)) {
                // Another containerd on the host may be using it: only an empty dir goes.
                Host.rmdirIfEmpty(d);
            }
        }
    }
}
