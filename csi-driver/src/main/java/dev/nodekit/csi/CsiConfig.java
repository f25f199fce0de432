package dev.nodekit.csi;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

import dev.nodekit.common.metrics.ListenAddress;

/**
 * Everything the CSI driver process is told, validated once in the compact constructor: a config
 * that exists is one the driver can start with, and every message names the flag that is wrong.
 *
 * @param socket             the unix socket to serve on ({@code --endpoint unix:///PATH})
 * @param nodeId             this node's id: NodeGetInfo's node_id and the topology value
 * @param backend            the storage backend kind ({@code --backend local})
 * @param dataDir            where the backend keeps its data and journal
 * @param mode               which services this process serves besides Identity
 * @param driverName         the CSI driver name, GetPluginInfo's name
 * @param maxVolumesPerNode  NodeGetInfo's max_volumes_per_node; 0 = no limit
 * @param topologyKey        the topology segment key; the value is the node id
 * @param metricsAddress     {@code host:port} of the Prometheus endpoint, if any
 * @param maxHeavyOperations how many heavy operations (mkfs, copies, attach) run at once
 */
public record CsiConfig(Path socket, String nodeId, String backend, Path dataDir, Mode mode, String driverName,
        long maxVolumesPerNode, String topologyKey, Optional<String> metricsAddress, int maxHeavyOperations) {

    /** The default driver name. */
    public static final String DEFAULT_DRIVER_NAME = "local.csi.nodekit.dev";
    /** Linux' sun_path is 108 bytes including the NUL. */
    static final int MAX_SOCKET_BYTES = 107;

    private static final Pattern LABEL_VALUE = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");
    private static final Pattern DNS_SUBDOMAIN =
            Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
    private static final Pattern BACKEND = Pattern.compile("[a-z]{1,8}");

    /** Which services besides Identity a process serves. */
    public enum Mode {
        /** Controller and node in one process (the node-local DaemonSet). */
        ALL,
        /** Controller only. */
        CONTROLLER,
        /** Node only. */
        NODE;

        /** Parses {@code all}, {@code controller} or {@code node}. */
        public static Mode parse(String text) {
            for (Mode m : values()) {
                if (m.name().toLowerCase(Locale.ROOT).equals(text)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("--mode must be all, controller or node, got '" + text + "'");
        }

        public boolean controller() {
            return this != NODE;
        }

        public boolean node() {
            return this != CONTROLLER;
        }
    }

    public CsiConfig {
        Objects.requireNonNull(socket, "socket");
        if (!socket.isAbsolute()) {
            throw new IllegalArgumentException("--endpoint: the socket path must be absolute, got " + socket);
        }
        if (socket.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SOCKET_BYTES) {
            throw new IllegalArgumentException("--endpoint: the socket path is longer than " + MAX_SOCKET_BYTES
                    + " bytes, the limit of a unix socket path");
        }
        Objects.requireNonNull(nodeId, "nodeId");
        if (!LABEL_VALUE.matcher(nodeId).matches()) {
            throw new IllegalArgumentException("--node-id '" + nodeId + "' must be a valid Kubernetes label value "
                    + "(it is the topology value): 1-63 characters of [A-Za-z0-9._-], alphanumeric at both ends");
        }
        Objects.requireNonNull(backend, "backend");
        if (!BACKEND.matcher(backend).matches()) {
            throw new IllegalArgumentException("--backend '" + backend + "' must be 1-8 lower-case letters, e.g. local");
        }
        Objects.requireNonNull(dataDir, "dataDir");
        if (!dataDir.isAbsolute()) {
            throw new IllegalArgumentException("--data-dir must be an absolute path, got " + dataDir);
        }
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(driverName, "driverName");
        if (!CsiIdentityService.DRIVER_NAME.matcher(driverName).matches()) {
            throw new IllegalArgumentException("--driver-name '" + driverName + "' must be at most 63 characters, "
                    + "alphanumeric at both ends, with '-', '.' and alphanumerics between");
        }
        if (maxVolumesPerNode < 0) {
            throw new IllegalArgumentException("--max-volumes-per-node must not be negative (0 = no limit)");
        }
        Objects.requireNonNull(topologyKey, "topologyKey");
        checkLabelKey(topologyKey);
        Objects.requireNonNull(metricsAddress, "metricsAddress");
        metricsAddress.ifPresent(a -> {
            try {
                ListenAddress.parse(a);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--metrics-address: " + e.getMessage(), e);
            }
        });
        if (maxHeavyOperations < 1 || maxHeavyOperations > 1024) {
            throw new IllegalArgumentException("--max-heavy-operations must be between 1 and 1024, got "
                    + maxHeavyOperations);
        }
    }

    /** The default topology key for a driver name: {@code topology.<driver-name>/node}. */
    public static String defaultTopologyKey(String driverName) {
        return "topology." + driverName.toLowerCase(Locale.ROOT) + "/node";
    }

    /**
     * The socket path of a CSI endpoint: {@code unix:///abs/path} (as kubelet and the sidecars
     * write it) or {@code unix:/abs/path}.
     */
    public static Path socketOf(String endpoint) {
        Objects.requireNonNull(endpoint, "endpoint");
        String path;
        if (endpoint.startsWith("unix://")) {
            path = endpoint.substring("unix://".length());
        } else if (endpoint.startsWith("unix:")) {
            path = endpoint.substring("unix:".length());
        } else {
            throw new IllegalArgumentException("--endpoint '" + endpoint + "' must be a unix socket, "
                    + "unix:///absolute/path.sock (CSI is served over unix sockets only)");
        }
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("--endpoint '" + endpoint + "' must name an absolute path, "
                    + "unix:///absolute/path.sock");
        }
        return Path.of(path).normalize();
    }

    /** Default heavy-operation limit: the number of CPUs, at least 2. */
    public static int defaultMaxHeavyOperations() {
        return Math.max(2, Runtime.getRuntime().availableProcessors());
    }

    private static void checkLabelKey(String key) {
        int slash = key.indexOf('/');
        String prefix = slash < 0 ? "" : key.substring(0, slash);
        String name = slash < 0 ? key : key.substring(slash + 1);
        if (slash >= 0 && (prefix.isEmpty() || prefix.length() > 253 || !DNS_SUBDOMAIN.matcher(prefix).matches())) {
            throw new IllegalArgumentException("--topology-key '" + key + "': the prefix before '/' must be a "
                    + "lower-case DNS subdomain of at most 253 characters");
        }
        if (!LABEL_NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("--topology-key '" + key + "': the name must be 1-63 characters of "
                    + "[A-Za-z0-9._-], alphanumeric at both ends (a Kubernetes label key)");
        }
    }
}
