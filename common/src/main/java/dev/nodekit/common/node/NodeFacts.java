package dev.nodekit.common.node;

import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;

/**
 * What a node is: hostname, kernel, CPUs, memory, local filesystems and network interfaces, as an
 * immutable record tree collected through OSHI, for diagnostics ({@code nodekit-* facts}),
 * NodeGetInfo-style answers and logs at startup.
 *
 * <p><b>Not for hot paths.</b> The first {@link #collect()} in a JVM initialises OSHI and JNA
 * (about a second on a small VM, see the package notes); later ones take tens of milliseconds
 * because every filesystem is {@code statvfs}ed. Use {@link #lazy()} to collect once, on first use,
 * and never from code that serves a CSI/CRI call or a CNI execution. OSHI classes are loaded only
 * when collecting, so holding a {@code NodeFacts} costs nothing.
 *
 * @param hostname the node's hostname
 * @param osName the distribution, e.g. {@code Debian GNU/Linux 12 (bookworm)}
 * @param kernelVersion the kernel release ({@code uname -r})
 * @param architecture the JVM's view of the CPU architecture ({@code amd64}, {@code aarch64})
 * @param logicalCpus logical processors (hardware threads)
 * @param totalMemoryBytes physical memory
 * @param filesystems local (non-network, non-pseudo) filesystems
 * @param interfaces network interfaces of this network namespace, loopback included
 */
public record NodeFacts(String hostname, String osName, String kernelVersion, String architecture, int logicalCpus,
        long totalMemoryBytes, List<Filesystem> filesystems, List<NetworkInterface> interfaces) {

    /** Validates and copies. */
    public NodeFacts {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(osName, "osName");
        Objects.requireNonNull(kernelVersion, "kernelVersion");
        Objects.requireNonNull(architecture, "architecture");
        if (logicalCpus < 1) {
            throw new IllegalArgumentException("logicalCpus must be >= 1, got " + logicalCpus);
        }
        if (totalMemoryBytes < 0) {
            throw new IllegalArgumentException("totalMemoryBytes must be >= 0, got " + totalMemoryBytes);
        }
        filesystems = List.copyOf(filesystems);
        interfaces = List.copyOf(interfaces);
    }

    /**
     * A mounted local filesystem.
     *
     * @param mountPoint where it is mounted
     * @param type filesystem type ({@code ext4}, {@code xfs}, {@code tmpfs})
     * @param source the device or source string ({@code /dev/vda1})
     * @param totalBytes size
     * @param usableBytes space available to unprivileged users
     */
    public record Filesystem(String mountPoint, String type, String source, long totalBytes, long usableBytes) {
        /** Validates. */
        public Filesystem {
            Objects.requireNonNull(mountPoint, "mountPoint");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(source, "source");
        }
    }

    /**
     * A network interface.
     *
     * @param name kernel name ({@code eth0})
     * @param macAddress hardware address, lower-case colon-separated; empty when it has none (loopback, tun)
     * @param ipv4 IPv4 addresses in CIDR notation ({@code 192.0.2.2/24})
     * @param ipv6 IPv6 addresses in CIDR notation
     * @param up administratively up (IFF_UP)
     * @param operState the kernel's operational state ({@code UP}, {@code DOWN}, {@code UNKNOWN} for loopback...)
     */
    public record NetworkInterface(String name, String macAddress, List<String> ipv4, List<String> ipv6, boolean up,
            String operState) {
        /** Validates and copies. */
        public NetworkInterface {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(macAddress, "macAddress");
            ipv4 = List.copyOf(ipv4);
            ipv6 = List.copyOf(ipv6);
            Objects.requireNonNull(operState, "operState");
        }
    }

    /** Collects the facts of this node now. Slow the first time in a JVM; see the class comment. */
    public static NodeFacts collect() {
        return OshiCollector.collect();
    }

    /** A supplier that collects on its first call and returns the same facts afterwards. Thread-safe. */
    public static Supplier<NodeFacts> lazy() {
        return new Supplier<>() {
            private volatile NodeFacts facts;

            @Override
            public NodeFacts get() {
                NodeFacts f = facts;
                if (f == null) {
                    synchronized (this) {
                        f = facts;
                        if (f == null) {
                            f = collect();
                            facts = f;
                        }
                    }
                }
                return f;
            }
        };
    }

    /** The interface named {@code name}, if present. */
    public java.util.Optional<NetworkInterface> networkInterface(String name) {
        return interfaces.stream().filter(i -> i.name().equals(name)).findFirst();
    }

    /** These facts as indented JSON with the record component names as keys. */
    public String toJson() {
        try {
            return Json.MAPPER.writeValueAsString(this);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("records of strings and numbers always serialize", e);
        }
    }

    /** Holder so the mapper is built on first {@link #toJson()}, not when the record class loads. */
    private static final class Json {
        static final ObjectMapper MAPPER = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
    }
}
