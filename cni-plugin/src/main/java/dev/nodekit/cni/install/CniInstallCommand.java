package dev.nodekit.cni.install;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.nodekit.common.config.Durations;
import dev.nodekit.common.exec.ProcessCommandRunner;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit cni install}: thin clients, JVM launchers, jars, class-data archive and conflist on
 * this node (see {@link CniInstaller}). Exit 0 when installed, 1 when the install failed, 2 for bad
 * options.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Install the nodekit CNI plugins (nodekit-bridge, nodekit-host-local, nodekit-loopback) in the "
                + "runtime's CNI bin dir: thin clients of 'nodekit cni daemon' with the JVM launchers as their fallback, "
                + "and a conflist for the given subnets.")
public final class CniInstallCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--bin-dir", required = true, description = "the runtime's CNI bin dir, e.g. /opt/cni/bin")
    Path binDir;

    @Option(names = "--conf-dir", required = true, description = "the runtime's CNI conf dir, e.g. /etc/cni/net.d")
    Path confDir;

    @Option(names = "--lib-dir", defaultValue = "/opt/nodekit/cni",
            description = "where the jars, archive, JVM launchers and client go (default: ${DEFAULT-VALUE})")
    Path libDir;

    @Option(names = "--subnet", paramLabel = "CIDR",
            description = "a pod subnet (repeat for dual stack); without one (or --subnet-from-node) no conflist is written")
    List<String> subnets = new ArrayList<>();

    @Option(names = "--subnet-from-node", arity = "0..1", paramLabel = "NODE", fallbackValue = "${env:NODE_NAME}",
            description = "read the pod subnets from this node's spec.podCIDRs in the Kubernetes API (in-cluster or "
                    + "kubeconfig credentials; without a value: the NODE_NAME variable)")
    String subnetFromNode;

    @Option(names = "--java", description = "the JVM the launchers run (default: the one running this command)")
    Path java;

    @Option(names = "--bundle-jvm", description = "copy that JVM into <lib-dir>/jvm and run the launchers from there "
            + "(an install from a container image)")
    boolean bundleJvm;

    @Option(names = "--force", description = "replace an existing different conflist and non-nodekit files of the same names")
    boolean force;

    @Option(names = "--network", defaultValue = "nodekit", description = "network name (default: ${DEFAULT-VALUE})")
    String network;

    @Option(names = "--bridge", defaultValue = "cni0", description = "bridge name (default: ${DEFAULT-VALUE})")
    String bridge;

    @Option(names = "--client", defaultValue = "auto", paramLabel = "auto|thin|jvm",
            description = "what the bin dir gets: thin (the C client of the daemon; fails without a compiler), jvm (the "
                    + "JVM launchers), auto (thin when it can be built; default)")
    String client;

    @Option(names = "--client-binary", description = "a prebuilt thin client to install instead of compiling one")
    Path clientBinary;

    @Option(names = "--daemon-socket", defaultValue = "/run/nodekit/cni.sock",
            description = "the daemon socket the thin clients use (default: ${DEFAULT-VALUE})")
    Path daemonSocket;

    @Option(names = "--client-request-timeout", defaultValue = "90s", paramLabel = "DURATION",
            description = "how long a thin client waits for the daemon's answer before CNI code 11 (default: ${DEFAULT-VALUE})")
    String clientRequestTimeout;

    @Option(names = "--systemd-unit", paramLabel = "FILE",
            description = "also write a systemd unit running the daemon, e.g. /etc/systemd/system/nodekit-cni.service")
    Path systemdUnit;

    @Option(names = "--nodekit-command", paramLabel = "FILE",
            description = "the nodekit launcher the unit runs (default: $NODEKIT_HOME/bin/nodekit)")
    Path nodekitCommand;

    @Option(names = "--cri-endpoint", paramLabel = "unix:///PATH",
            description = "the unit's daemon also reclaims leaked allocations against this CRI runtime")
    String criEndpoint;

    @Option(names = "--no-archive", description = "do not build the class-data archive")
    boolean noArchive;

    @Option(names = "--no-loopback-alias", description = "do not install 'loopback' (containerd runs that name)")
    boolean noLoopbackAlias;

    @Option(names = "--log-level", defaultValue = "warn", description = "launchers' default log level (default: ${DEFAULT-VALUE})")
    String logLevel;

    @Option(names = "--log-file", description = "launchers' log file (default: the runtime's stderr)")
    Path logFile;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        InstallSpec is;
        try {
            is = installSpec(subnets);
        } catch (IllegalArgumentException e) {
            err.println("nodekit cni install: " + e.getMessage());
            return 2;
        }
        List<String> nets = new ArrayList<>(subnets);
        if (subnetFromNode != null) {
            if (!subnets.isEmpty()) {
                err.println("nodekit cni install: give --subnet or --subnet-from-node, not both");
                return 2;
            }
            try (KubernetesClient k = new KubernetesClientBuilder().build()) {
                nets = NodePodCidrs.read(k, subnetFromNode.startsWith("${") ? "" : subnetFromNode);
                out.println("pod subnets of node " + subnetFromNode + ": " + String.join(", ", nets));
                is = installSpec(nets);
            } catch (InstallException | IllegalArgumentException e) {
                err.println("nodekit cni install: " + e.getMessage());
                return 1;
            }
        }
        long start = System.nanoTime();
        CniInstaller.Report r;
        try {
            r = new CniInstaller(new ProcessCommandRunner(), Duration.ofMinutes(5)).install(is);
        } catch (InstallException e) {
            err.println("nodekit cni install: " + e.getMessage());
            return 1;
        }
        out.println("JVM: " + r.java() + " (Java " + r.javaFeature() + ")");
        for (Path p : r.jars()) {
            out.println("jar: " + p);
        }
        out.println("archive: " + (r.archive().isPresent() ? r.archive().get() : "none"));
        out.println("fallback launchers: " + is.launcherDir());
        out.println("thin client: " + (r.client().isPresent() ? r.client().get() + " (daemon socket " + is.daemonSocket()
                + ")" : "none: the bin dir runs the JVM launchers"));
        for (Path p : r.launchers()) {
            out.println("executable: " + p);
        }
        for (Path p : r.kept()) {
            out.println("kept existing: " + p);
        }
        out.println("conflist: " + (r.conflist().isPresent() ? r.conflist().get() : "none (no subnet given)"));
        r.systemdUnit().ifPresent(u -> out.println("systemd unit: " + u + " (systemctl daemon-reload && systemctl enable "
                + "--now " + u.getFileName() + ")"));
        for (String n : r.notes()) {
            out.println("note: " + n);
        }
        out.println("done in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        return 0;
    }

    /** The validated spec from the options, with {@code nets} as the subnets. */
    InstallSpec installSpec(List<String> nets) {
        Path jvm = java != null ? java.toAbsolutePath() : Path.of(System.getProperty("java.home"), "bin", "java");
        InstallSpec.ClientMode mode;
        try {
            mode = InstallSpec.ClientMode.valueOf(client.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--client must be auto, thin or jvm, got " + client);
        }
        Optional<InstallSpec.SystemdUnit> unit = Optional.empty();
        if (systemdUnit != null) {
            Path cmd = nodekitCommand;
            if (cmd == null && System.getenv("NODEKIT_HOME") != null) {
                cmd = Path.of(System.getenv("NODEKIT_HOME"), "bin", "nodekit");
            }
            if (cmd == null) {
                throw new IllegalArgumentException("--systemd-unit needs --nodekit-command (NODEKIT_HOME is not set)");
            }
            unit = Optional.of(new InstallSpec.SystemdUnit(systemdUnit.toAbsolutePath(), cmd.toAbsolutePath(),
                    Optional.ofNullable(criEndpoint)));
        } else if (criEndpoint != null) {
            throw new IllegalArgumentException("--cri-endpoint is for the systemd unit's daemon; give --systemd-unit too");
        }
        InstallSpec.ClientTimeouts d = InstallSpec.ClientTimeouts.DEFAULTS;
        return InstallSpec.builder(binDir.toAbsolutePath(), confDir.toAbsolutePath(), libDir.toAbsolutePath(), jvm)
                .subnets(nets).network(network).bridge(bridge).force(force).archive(!noArchive)
                .loopbackAlias(!noLoopbackAlias).logLevel(logLevel)
                .logFile(Optional.ofNullable(logFile).map(Path::toAbsolutePath)).client(mode)
                .clientBinary(Optional.ofNullable(clientBinary).map(Path::toAbsolutePath))
                .daemonSocket(daemonSocket.toAbsolutePath())
                .timeouts(new InstallSpec.ClientTimeouts(d.connect(), d.ready(), Durations.parse(clientRequestTimeout)))
                .bundleJvm(bundleJvm).systemdUnit(unit).build();
    }
}
