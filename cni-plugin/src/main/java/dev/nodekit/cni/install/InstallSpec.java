package dev.nodekit.cni.install;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.nodekit.cni.net.InterfaceNames;
import dev.nodekit.cni.net.IpNetwork;

/**
 * What {@code nodekit cni install} does, validated once.
 *
 * @param binDir      where the launchers go (the runtime's CNI bin dir, e.g. /opt/cni/bin)
 * @param confDir     where the conflist goes (e.g. /etc/cni/net.d)
 * @param libDir      where the jars and the class-data archive go
 * @param java        the JVM the launchers run, recorded as an absolute path (runtimes exec plugins
 *                    with a minimal environment, without PATH or JAVA_HOME)
 * @param subnets     pod subnets, one range set each (an IPv4 and an IPv6 one give dual stack); none:
 *                    no conflist is written
 * @param network     the network name in the conflist
 * @param bridge      the bridge name in the conflist
 * @param force       replace an existing conflist and non-nodekit files of the same names
 * @param archive     build a class-data archive (AppCDS, or a JDK 25+ AOT cache) at install
 * @param loopbackAlias also install {@code loopback} (containerd runs that name) when the bin dir has none
 * @param logLevel    the launchers' default {@code NODEKIT_LOG_LEVEL}
 * @param logFile     the launchers' {@code NODEKIT_LOG_FILE}, when logs should not go to the runtime's stderr
 */
public record InstallSpec(Path binDir, Path confDir, Path libDir, Path java, List<String> subnets, String network,
        String bridge, boolean force, boolean archive, boolean loopbackAlias, String logLevel, Optional<Path> logFile) {

    /** The conflist's file name: 10- so it sorts before most others (containerd uses the first file). */
    public static final String CONFLIST_NAME = "10-nodekit.conflist";

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
}
