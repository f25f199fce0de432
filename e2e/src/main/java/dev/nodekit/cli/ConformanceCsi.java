package dev.nodekit.cli;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import dev.nodekit.conformance.csi.CsiSuites;
import dev.nodekit.conformance.csi.CsiTarget;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code nodekit conformance csi}. */
@Command(name = "csi", mixinStandardHelpOptions = true,
        description = "Run the CSI suite against a CSI endpoint (unix:///path.sock).")
final class ConformanceCsi implements Callable<Integer> {
    @Mixin
    ConformanceOptions common;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--endpoint", required = true, paramLabel = "E", description = "Node (or all-in-one) endpoint.")
    String endpoint;

    @Option(names = "--controller-endpoint", paramLabel = "E", description = "Controller endpoint, if separate.")
    String controllerEndpoint;

    @Option(names = "--staging-dir", paramLabel = "D", description = "Parent of staging paths.")
    Path stagingDir;

    @Option(names = "--target-dir", paramLabel = "D", description = "Parent of publish targets.")
    Path targetDir;

    @Option(names = "--params", paramLabel = "FILE", description = "YAML map of CreateVolume parameters.")
    Path params;

    @Option(names = "--secrets", paramLabel = "FILE", description = "YAML map of secrets sent with every call.")
    Path secrets;

    @Option(names = "--volume-size", paramLabel = "BYTES", description = "Size of test volumes.")
    Long volumeSize;

    @Option(names = "--access-type", paramLabel = "mount|block", description = "Access type of test volumes.")
    String accessType;

    @Option(names = "--fs-type", paramLabel = "T", description = "Filesystem of mount volumes.")
    String fsType;

    @Override
    public Integer call() throws Exception {
        CsiTarget.Config d = CsiTarget.Config.of(endpoint);
        CsiTarget.AccessType at = d.accessType();
        if (accessType != null) {
            at = switch (accessType) {
                case "mount" -> CsiTarget.AccessType.MOUNT;
                case "block" -> CsiTarget.AccessType.BLOCK;
                default -> throw new ParameterException(spec.commandLine(),
                        "--access-type must be mount or block, got '" + accessType + "'");
            };
        }
        CsiTarget.Config config = new CsiTarget.Config(endpoint, Optional.ofNullable(controllerEndpoint),
                stagingDir != null ? stagingDir : d.stagingDir(), targetDir != null ? targetDir : d.targetDir(),
                params != null ? ConformanceOptions.readMap(params, "--params") : Map.of(),
                secrets != null ? ConformanceOptions.readMap(secrets, "--secrets") : Map.of(),
                volumeSize != null ? volumeSize : d.volumeSize(), at, fsType != null ? fsType : d.fsType(),
                d.callTimeout());
        return common.runOrList(CsiSuites.all(), () -> CsiTarget.connect(config), System.out);
    }
}
