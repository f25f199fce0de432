package dev.nodekit.cni.install;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import dev.nodekit.cni.net.InterfaceNames;
import dev.nodekit.cni.net.IpNetwork;

/**
 * What {@code nodekit cni install} does, validated once. Build it with {@link #builder}.
 *
 * @param binDir      where the plugin executables go (the runtime's CNI bin dir, e.g. /opt/cni/bin)
 * @param confDir     where the conflist goes (e.g. /etc/cni/net.d)
 * @param libDir      where the jars, the class-data archive, the JVM launchers and the client go
 * @param java        the JVM the launchers run, recorded as an absolute path (runtimes exec plugins
 *                    with a minimal environment, without PATH or JAVA_HOME)
 * @param subnets     pod subnets, one range set each (an IPv4 and an IPv6 one give dual stack); none:
 *                    no conflist is written
 * @param network     the network name in the conflist
 * @param bridge      the bridge name in the conflist
 * @param force       replace an existing different conflist and non-nodekit files of the same names
 * @param archive     build a class-data archive (AppCDS, or a JDK 25+ AOT cache) at install
 * @param loopbackAlias also install {@code loopback} (containerd runs that name) when the bin dir has none
 * @param logLevel    the launchers' default {@code NODEKIT_LOG_LEVEL}
 * @param logFile     the launchers' {@code NODEKIT_LOG_FILE}, when logs should not go to the runtime's stderr
 * @param client      what the bin dir gets: the thin client in front of the daemon, or the JVM launchers
 * @param clientBinary a prebuilt thin client to install instead of compiling one
 * @param daemonSocket the daemon socket the thin clients connect to
 * @param timeouts    the thin clients' bounds
 * @param bundleJvm   copy the JVM into the lib dir and run the launchers from there (an install from a
 *                    container image, whose JVM the host does not have)
 * @param systemdUnit a systemd unit running the daemon, to write
 */
public record InstallSpec(Path binDir, Path confDir, Path libDir, Path java, List<String> subnets, String network,
        String bridge, boolean force, boolean archive, boolean loopbackAlias, String logLevel, Optional<Path> logFile,
        ClientMode client, Optional<Path> clientBinary, Path daemonSocket, ClientTimeouts timeouts, boolean bundleJvm,
        Optional<SystemdUnit> systemdUnit) {

    /** The conflist's file name: 10- so it sorts before most others (containerd uses the first file). */
    public static final String CONFLIST_NAME = "10-nodekit.conflist";
    /** The daemon socket by default. */
    public static final Path DEFAULT_SOCKET = Path.of("/run/nodekit/cni.sock");

    /** What goes into the bin dir. */
    public enum ClientMode {
        /** The thin client when one can be had (a C compiler, or {@code --client-binary}), else the JVM launchers. */
        AUTO,
        /** The thin client; the install fails when none can be built. */
        THIN,
        /** The JVM launchers themselves (no daemon). */
        JVM
    }

    /**
     * The thin client's bounds.
     *
     * @param connect how long connecting to the daemon may take before falling back
     * @param ready   how long the daemon may take to confirm it read the request before falling back
     * @param request how long a committed call may take before the client answers code 11 (well under
     *                kubelet's 2-minute CRI deadline)
     */
    public record ClientTimeouts(Duration connect, Duration ready, Duration request) {
        /** 1 s to connect, 5 s to be ready, 90 s per call. */
        public static final ClientTimeouts DEFAULTS = new ClientTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(5),
                Duration.ofSeconds(90));

        public ClientTimeouts {
            for (Duration d : new Duration[] {connect, ready, request}) {
                if (d == null || d.toMillis() < 1 || d.toMinutes() > 60) {
                    throw new IllegalArgumentException("client timeouts must be between 1 ms and 1 h, got " + d);
                }
            }
        }
    }

    /**
     * A systemd unit that runs {@code nodekit cni daemon} for the installed clients.
     *
     * @param file           where the unit goes, e.g. /etc/systemd/system/nodekit-cni.service
     * @param nodekitCommand the {@code nodekit} launcher the unit runs (absolute)
     * @param criEndpoint    when given, the daemon also runs the leak reconciler against this runtime
     */
    public record SystemdUnit(Path file, Path nodekitCommand, Optional<String> criEndpoint) {
        public SystemdUnit {
            file = absolute(file, "--systemd-unit");
            nodekitCommand = absolute(nodekitCommand, "--nodekit-command");
            Objects.requireNonNull(criEndpoint, "criEndpoint");
            if (criEndpoint.isPresent() && !criEndpoint.get().matches("unix://?/[A-Za-z0-9_./@+-]+")) {
                throw new IllegalArgumentException("--cri-endpoint '" + criEndpoint.get() + "' must be unix:///absolute/path");
            }
        }
    }

    public InstallSpec {
        binDir = absolute(binDir, "--bin-dir");
        confDir = absolute(confDir, "--conf-dir");
        libDir = absolute(libDir, "--lib-dir");
        java = absolute(java, "--java");
        List<String> checked = new ArrayList<>();
        for (String s : subnets == null ? List.<String>of() : subnets) {
            IpNetwork n = IpNetwork.parseOrNull(s);
            if (n == null || !n.isNetworkAddress()) {
                throw new IllegalArgumentException("--subnet " + s + ": expected a network CIDR such as 10.22.0.0/16");
            }
            if (n.prefix() > n.address().bitLength() - 2) {
                throw new IllegalArgumentException("--subnet " + s + ": too small to allocate from");
            }
            for (String other : checked) {
                if (IpNetwork.parse(other).overlaps(n)) {
                    throw new IllegalArgumentException("--subnet " + s + " overlaps " + other);
                }
            }
            checked.add(n.toString());
        }
        subnets = List.copyOf(checked);
        if (network == null || !network.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
            throw new IllegalArgumentException("--network '" + network + "' is not a valid CNI network name");
        }
        InterfaceNames.check(bridge, "--bridge");
        if (logLevel == null || !logLevel.matches("(?i)trace|debug|info|warn|error")) {
            throw new IllegalArgumentException("--log-level '" + logLevel + "' is not one of trace, debug, info, warn, error");
        }
        logFile = logFile == null ? Optional.empty() : logFile.map(p -> absolute(p, "--log-file"));
        Objects.requireNonNull(client, "client");
        clientBinary = clientBinary == null ? Optional.empty() : clientBinary.map(p -> absolute(p, "--client-binary"));
        if (clientBinary.isPresent() && client == ClientMode.JVM) {
            throw new IllegalArgumentException("--client-binary makes no sense with --client jvm");
        }
        daemonSocket = absolute(daemonSocket, "--daemon-socket");
        if (daemonSocket.toString().getBytes(StandardCharsets.UTF_8).length > 107) {
            throw new IllegalArgumentException("--daemon-socket " + daemonSocket + " is longer than a unix socket path can be");
        }
        Objects.requireNonNull(timeouts, "timeouts");
        systemdUnit = systemdUnit == null ? Optional.empty() : systemdUnit;
    }

    /**
     * The JVM launchers in the bin dir, nothing else: the behaviour before the daemon existed (tests and
     * benchmarks of the exec'd plugins use it).
     */
    public InstallSpec(Path binDir, Path confDir, Path libDir, Path java, List<String> subnets, String network,
            String bridge, boolean force, boolean archive, boolean loopbackAlias, String logLevel, Optional<Path> logFile) {
        this(binDir, confDir, libDir, java, subnets, network, bridge, force, archive, loopbackAlias, logLevel, logFile,
                ClientMode.JVM, Optional.empty(), DEFAULT_SOCKET, ClientTimeouts.DEFAULTS, false, Optional.empty());
    }

    private static Path absolute(Path p, String option) {
        if (p == null) {
            throw new IllegalArgumentException(option + " is required");
        }
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException(option + " must be an absolute path: " + p);
        }
        if (p.toString().matches(".*[\\s\"'`$\\\\].*")) {
            throw new IllegalArgumentException(option + " must not contain whitespace, quotes, '$' or backslashes: " + p);
        }
        return p.normalize();
    }

    /** The conflist path. */
    public Path conflist() {
        return confDir.resolve(CONFLIST_NAME);
    }

    /** Where the JVM launchers go (the bin dir in {@link ClientMode#JVM} mode gets copies of them). */
    public Path launcherDir() {
        return libDir.resolve("launchers");
    }

    /** A builder with the defaults of {@code nodekit cni install}. */
    public static Builder builder(Path binDir, Path confDir, Path libDir, Path java) {
        return new Builder(binDir, confDir, libDir, java);
    }

    /** Collects the optional knobs. */
    public static final class Builder {
        private final Path binDir;
        private final Path confDir;
        private final Path libDir;
        private final Path java;
        private List<String> subnets = List.of();
        private String network = "nodekit";
        private String bridge = "cni0";
        private boolean force;
        private boolean archive = true;
        private boolean loopbackAlias = true;
        private String logLevel = "warn";
        private Optional<Path> logFile = Optional.empty();
        private ClientMode client = ClientMode.AUTO;
        private Optional<Path> clientBinary = Optional.empty();
        private Path daemonSocket = DEFAULT_SOCKET;
        private ClientTimeouts timeouts = ClientTimeouts.DEFAULTS;
        private boolean bundleJvm;
        private Optional<SystemdUnit> systemdUnit = Optional.empty();

        private Builder(Path binDir, Path confDir, Path libDir, Path java) {
            this.binDir = binDir;
            this.confDir = confDir;
            this.libDir = libDir;
            this.java = java;
        }

        public Builder subnets(List<String> v) {
            subnets = v;
            return this;
        }

        public Builder network(String v) {
            network = v;
            return this;
        }

        public Builder bridge(String v) {
            bridge = v;
            return this;
        }

        public Builder force(boolean v) {
            force = v;
            return this;
        }

        public Builder archive(boolean v) {
            archive = v;
            return this;
        }

        public Builder loopbackAlias(boolean v) {
            loopbackAlias = v;
            return this;
        }

        public Builder logLevel(String v) {
            logLevel = v;
            return this;
        }

        public Builder logFile(Optional<Path> v) {
            logFile = v;
            return this;
        }

        public Builder client(ClientMode v) {
            client = v;
            return this;
        }

        public Builder clientBinary(Optional<Path> v) {
            clientBinary = v;
            return this;
        }

        public Builder daemonSocket(Path v) {
            daemonSocket = v;
            return this;
        }

        public Builder timeouts(ClientTimeouts v) {
            timeouts = v;
            return this;
        }

        public Builder bundleJvm(boolean v) {
            bundleJvm = v;
            return this;
        }

        public Builder systemdUnit(Optional<SystemdUnit> v) {
            systemdUnit = v;
            return this;
        }

        /** The validated spec. */
        public InstallSpec build() {
            return new InstallSpec(binDir, confDir, libDir, java, subnets, network, bridge, force, archive, loopbackAlias,
                    logLevel, logFile, client, clientBinary, daemonSocket, timeouts, bundleJvm, systemdUnit);
        }
    }
}
