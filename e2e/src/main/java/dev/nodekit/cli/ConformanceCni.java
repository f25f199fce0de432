package dev.nodekit.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.nodekit.conformance.Suite;
import dev.nodekit.conformance.cni.CniChecks;
import dev.nodekit.conformance.cni.CniTarget;
import dev.nodekit.conformance.cni.CniVersions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code nodekit conformance cni}. */
@Command(name = "cni", mixinStandardHelpOptions = true,
        description = {"Run the CNI suite against a plugin directory, once per spec version the plugin claims.",
                "Needs root for the checks that create network namespaces; they are skipped (or fail with --strict) "
                        + "without it."})
final class ConformanceCni implements Callable<Integer> {
    @Mixin
    ConformanceOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--bin-dir", required = true, paramLabel = "DIR",
            description = "Directory of plugin executables (also CNI_PATH).")
    Path binDir;

    @Option(names = "--plugin", paramLabel = "NAME",
            description = "Main plugin; the suite generates a bridge-style config for it (with --ipam).")
    String plugin;

    @Option(names = "--ipam", paramLabel = "NAME", description = "IPAM plugin of the generated config.")
    String ipam;

    @Option(names = "--conf", paramLabel = "FILE",
            description = "Use this .conf/.conflist (one plugin) instead of a generated config.")
    Path conf;

    @Option(names = "--versions", paramLabel = "LIST", description = "Spec versions to test, comma-separated "
            + "(default: what the plugin's VERSION claims among 0.3.0,0.3.1,0.4.0,1.0.0,1.1.0).")
    String versions;

    @Option(names = "--exec-timeout", paramLabel = "SECONDS", defaultValue = "30",
            description = "Bound on one plugin call (default: ${DEFAULT-VALUE}).")
    long execTimeoutSeconds;

    @Override
    public Integer call() throws Exception {
        Optional<List<String>> chosen;
        try {
            chosen = versions == null ? Optional.empty() : Optional.of(CniVersions.parseList(versions));
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (execTimeoutSeconds <= 0) {
            throw new ParameterException(spec.commandLine(), "--exec-timeout must be positive");
        }
        CniTarget.Network network;
        if (conf != null) {
            if (plugin != null || ipam != null) {
                throw new ParameterException(spec.commandLine(), "give either --conf FILE or --plugin NAME --ipam NAME");
            }
            network = new CniTarget.ConfFile(conf);
        } else if (plugin != null && ipam != null) {
            try {
                network = new CniTarget.Generated(plugin, ipam);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        } else {
            throw new ParameterException(spec.commandLine(),
                    "give --plugin NAME and --ipam NAME (a generated bridge-style config) or --conf FILE");
        }
        CniTarget.Config config = new CniTarget.Config(binDir, network, chosen, Duration.ofSeconds(execTimeoutSeconds));
        Suite<CniTarget> suite = chosen.map(CniChecks::suite).orElseGet(CniChecks::suite);
        return common.runOrList(suite, () -> CniTarget.open(config), System.out);
    }
}
