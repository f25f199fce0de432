package dev.nodekit.csi;

import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.nodekit.csi.spi.StorageBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code nodekit csi}: runs the CSI driver until SIGTERM. The flags become one {@link CsiConfig}
 * (a bad flag exits 2 with a message naming it), the backend is opened from the
 * {@link BackendRegistry}, then {@link CsiDriver} serves.
 */
@Command(name = "csi", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run the nodekit CSI driver (Identity always; Controller and/or Node by --mode).")
public final class CsiCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(CsiCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--endpoint", required = true, paramLabel = "unix:///PATH",
            description = "The unix socket to serve CSI on (kubelet: /var/lib/kubelet/plugins/<driver>/csi.sock).")
    String endpoint;

    @Option(names = "--node-id", required = true, paramLabel = "ID",
            description = "This node's id (the Kubernetes node name); also the topology value.")
    String nodeId;

    @Option(names = "--backend", defaultValue = "local", paramLabel = "KIND",
            description = "Storage backend (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--data-dir", required = true, paramLabel = "DIR",
            description = "Where the backend keeps images, snapshots and its journal.")
    Path dataDir;

    @Option(names = "--mode", defaultValue = "all", paramLabel = "all|controller|node",
            description = "Services to serve besides Identity (default: ${DEFAULT-VALUE}).")
    String mode;

    @Option(names = "--driver-name", defaultValue = CsiConfig.DEFAULT_DRIVER_NAME, paramLabel = "NAME",
            description = "CSI driver name (default: ${DEFAULT-VALUE}).")
    String driverName;

    @Option(names = "--max-volumes-per-node", defaultValue = "0", paramLabel = "N",
            description = "NodeGetInfo's max_volumes_per_node; 0 = no limit (default).")
    long maxVolumesPerNode;

    @Option(names = "--topology-key", paramLabel = "KEY",
            description = "Topology segment key (default: topology.<driver-name>/node).")
    String topologyKey;

    @Option(names = "--metrics-address", paramLabel = "ADDR",
            description = "Serve Prometheus metrics on host:port (e.g. 127.0.0.1:9809); off by default.")
    String metricsAddress;

    @Option(names = "--max-heavy-operations", paramLabel = "N",
            description = "Heavy operations (mkfs, copies, attach) run at once; more wait (default: CPUs, at least 2).")
    Integer maxHeavyOperations;

    /**
     * The config {@code nodekit csi ARGS} would run with, without running anything: for checks of
     * deployment manifests. Throws a {@link ParameterException} naming a bad flag.
     */
    public static CsiConfig parse(String... args) {
        CsiCommand c = new CsiCommand();
        new picocli.CommandLine(c).parseArgs(args);
        return c.config();
    }

    /** The config these flags describe. */
    CsiConfig config() {
        try {
            Path dir = dataDir.toAbsolutePath().normalize();
            return new CsiConfig(CsiConfig.socketOf(endpoint), nodeId, backend, dir, CsiConfig.Mode.parse(mode),
                    driverName, maxVolumesPerNode,
                    topologyKey != null ? topologyKey : CsiConfig.defaultTopologyKey(driverName),
                    Optional.ofNullable(metricsAddress),
                    maxHeavyOperations != null ? maxHeavyOperations : CsiConfig.defaultMaxHeavyOperations());
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage(), e);
        }
    }

    @Override
    public Integer call() throws Exception {
        CsiConfig config = config();
        CsiDriver.Environment env = CsiDriver.Environment.system();
        BackendRegistry registry = BackendRegistry.builtIn();
        if (!registry.kinds().contains(config.backend())) {
            throw new ParameterException(spec.commandLine(), "--backend '" + config.backend()
                    + "' is not known; available: " + String.join(", ", registry.kinds()));
        }
        StorageBackend b = registry.open(config.backend(), new BackendRegistry.Context(config.dataDir(), config.nodeId(),
                env.runner(), env.clock(), env.metrics()));
        CsiDriver driver;
        try {
            driver = CsiDriver.start(config, b, env);
        } catch (Exception e) {
            b.close();
            throw e;
        }
        try {
            driver.awaitTermination();
        } finally {
            driver.close();
            log.atInfo().log("CSI driver stopped");
        }
        return 0;
    }
}
