package dev.nodekit.cni.install;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.nodekit.common.exec.ProcessCommandRunner;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit cni install}: launchers, jars, class-data archive and conflist on this node (see
 * {@link CniInstaller}). Exit 0 when installed, 1 when the install failed, 2 for bad options.
 */
@Command(name = "install", mixinStandardHelpOptions = true,
        description = "Install the nodekit CNI plugins (nodekit-bridge, nodekit-host-local, nodekit-loopback) "
                + "as launchers in the runtime's CNI bin dir, and a conflist for the given subnets.")
public final class CniInstallCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--bin-dir", required = true, description = "the runtime's CNI bin dir, e.g. /opt/cni/bin")
    Path binDir;

    @Option(names = "--conf-dir", required = true, description = "the runtime's CNI conf dir, e.g. /etc/cni/net.d")
    Path confDir;

    @Option(names = "--lib-dir", defaultValue = "/opt/nodekit/cni",
            description = "where the jars and the class-data archive go (default: ${DEFAULT-VALUE})")
    Path libDir;

    @Option(names = "--subnet", paramLabel = "CIDR",
            description = "a pod subnet (repeat for dual stack); without one no conflist is written")
    List<String> subnets = new ArrayList<>();

    @Option(names = "--java", description = "the JVM the launchers run (default: the one running this command)")
    Path java;

    @Option(names = "--force", description = "replace an existing conflist and non-nodekit files of the same names")
    boolean force;

    @Option(names = "--network", defaultValue = "nodekit", description = "network name (default: ${DEFAULT-VALUE})")
    String network;

    @Option(names = "--bridge", defaultValue = "cni0", description = "bridge name (default: ${DEFAULT-VALUE})")
    String bridge;

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
            Path jvm = java != null ? java.toAbsolutePath() : Path.of(System.getProperty("java.home"), "bin", "java");
            is = new InstallSpec(binDir.toAbsolutePath(), confDir.toAbsolutePath(), libDir.toAbsolutePath(), jvm, subnets,
                    network, bridge, force, !noArchive, !noLoopbackAlias, logLevel,
                    Optional.ofNullable(logFile).map(Path::toAbsolutePath));
        } catch (IllegalArgumentException e) {
            err.println("nodekit cni install: " + e.getMessage());
            return 2;
        }
        long start = System.nanoTime();
        CniInstaller.Report r;
        try {
            r = new CniInstaller(new ProcessCommandRunner(), Duration.ofMinutes(5)).install(is);
        } catch (InstallException e) {
            err.println("nodekit cni install: " + e.getMessage());
            return 1;
        }
        out.println("JVM: " + is.java() + " (Java " + r.javaFeature() + ")");
        for (Path p : r.jars()) {
            out.println("jar: " + p);
        }
        out.println("archive: " + (r.archive().isPresent() ? r.archive().get() : "none"));
        for (Path p : r.launchers()) {
            out.println("launcher: " + p);
        }
        for (Path p : r.kept()) {
            out.println("kept existing: " + p);
        }
        out.println("conflist: " + (r.conflist().isPresent() ? r.conflist().get() : "none (no --subnet given)"));
        for (String n : r.notes()) {
            out.println("note: " + n);
        }
        out.println("done in " + (System.nanoTime() - start) / 1_000_000 + " ms");
        return 0;
    }
}
